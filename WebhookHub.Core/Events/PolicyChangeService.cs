using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Events;

/// <summary>A policy change as lists show it: no diff (it can be large), with how its deliveries went.</summary>
public sealed record PolicyChangeSummary(
    Guid Id, string Route, string Source, DateTime DetectedAt, string? Summary, DateTime CreatedAt, DateTime? FannedOutAt,
    int Deliveries, int Succeeded, int Failed, int InFlight);

/// <summary>A change reported by the detector (API) or by an admin on the policy changes page.</summary>
public sealed record PolicyChangeInput(string? Route, string? Source, string? Diff, string? Summary = null, DateTime? DetectedAt = null);

/// <summary>What reporting a change came to.</summary>
public abstract record PolicyChangeOutcome
{
    private PolicyChangeOutcome() { }

    /// <summary>Stored and handed to the fan-out; the caller never waits for a webhook.</summary>
    public sealed record Accepted(PolicyChange Change) : PolicyChangeOutcome;

    /// <param name="Errors">Field name (as in the JSON body) → what is wrong with it.</param>
    public sealed record Invalid(IReadOnlyDictionary<string, string> Errors) : PolicyChangeOutcome;
}

/// <summary>
/// Policy changes in and out: the API and the page's "trigger a change" form both report through
/// <see cref="CreateAsync"/>; lists read newest first, a page at a time.
/// </summary>
public sealed class PolicyChangeService(WebhookHubDbContext db, SqliteWriteGate writes, FanoutDispatcher dispatcher, TimeProvider time)
{
    public const int MaxRouteLength = 200;
    public const int MaxSourceLength = 2048;
    public const int MaxDiffChars = 5 * 1024 * 1024;
    public const int MaxSummaryChars = 10_000;

    /// <summary>Field → what is wrong, the same sentences for the API's 400 and the page's form.</summary>
    public static Dictionary<string, string> Validate(PolicyChangeInput input, DateTime now)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        Require(errors, "route", input.Route, MaxRouteLength);
        Require(errors, "source", input.Source, MaxSourceLength);
        Require(errors, "diff", input.Diff, MaxDiffChars);
        if (input.Summary is { Length: > MaxSummaryChars }) errors["summary"] = $"summary must be at most {MaxSummaryChars} characters.";
        if (input.DetectedAt?.ToUniversalTime() > now.AddMinutes(5)) errors["detectedAt"] = "detectedAt must not be in the future.";
        return errors;
    }

    public async Task<PolicyChangeOutcome> CreateAsync(PolicyChangeInput input, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var errors = Validate(input, now);
        if (errors.Count > 0) return new PolicyChangeOutcome.Invalid(errors);

        var change = new PolicyChange
        {
            Id = Guid.CreateVersion7(), Route = input.Route!.Trim(), Source = input.Source!.Trim(), Diff = input.Diff!,
            Summary = input.Summary, DetectedAt = input.DetectedAt?.ToUniversalTime() ?? now, CreatedAt = now,
        };
        db.PolicyChanges.Add(change);
        // One small row, urgent on the write gate: it waits only for the write in progress, not behind the
        // queue of fan-out batches, so a report is answered at once even mid fan-out.
        await writes.SaveChangesAsync(db, ct, urgent: true);
        // Stored first: if the process dies before the fan-out, FannedOutAt stays null and the owed-job sweep finds it.
        dispatcher.Dispatch(change.Id);
        return new PolicyChangeOutcome.Accepted(change);
    }

    private static void Require(Dictionary<string, string> errors, string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value)) errors[field] = $"{field} is required.";
        else if (value.Length > maxLength) errors[field] = $"{field} must be at most {maxLength} characters.";
    }

    /// <param name="visible">Delivery counts cover only these webhooks: a customer sees its own, not everyone's volume.</param>
    public async Task<(List<PolicyChangeSummary> Items, int Total)> PageAsync(IQueryable<Webhook> visible, int skip, int take, CancellationToken ct)
    {
        var total = await db.PolicyChanges.CountAsync(ct);
        var changes = await db.PolicyChanges.AsNoTracking().OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id)
            .Skip(Math.Max(0, skip)).Take(take)
            .Select(p => new { p.Id, p.Route, p.Source, p.DetectedAt, p.Summary, p.CreatedAt, p.FannedOutAt })
            .ToListAsync(ct);
        var ids = changes.Select(c => (Guid?)c.Id).ToList();
        var counts = await (from d in db.Deliveries
                            join w in visible on d.WebhookId equals w.Id
                            where ids.Contains(d.PolicyChangeId)
                            group d by new { d.PolicyChangeId, d.Status } into g
                            select new { g.Key.PolicyChangeId, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);

        int Count(Guid id, params DeliveryStatus[] statuses) =>
            counts.Where(c => c.PolicyChangeId == id && statuses.Contains(c.Status)).Sum(c => c.Count);

        var items = changes.Select(c => new PolicyChangeSummary(c.Id, c.Route, c.Source, c.DetectedAt, c.Summary, c.CreatedAt, c.FannedOutAt,
            counts.Where(x => x.PolicyChangeId == c.Id).Sum(x => x.Count),
            Count(c.Id, DeliveryStatus.Success), Count(c.Id, DeliveryStatus.Failed),
            Count(c.Id, DeliveryStatus.Pending, DeliveryStatus.Retrying))).ToList();
        return (items, total);
    }
}
