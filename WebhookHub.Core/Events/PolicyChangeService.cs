using System.Security.Cryptography;
using System.Text.Json;
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

    /// <summary>The idempotency key was used in the last 24 h with another body; nothing was stored.</summary>
    public sealed record KeyReused : PolicyChangeOutcome;
}

/// <summary>A caller's <c>Idempotency-Key</c>: its user id scopes the key.</summary>
public sealed record IdempotencyClaim(string UserId, string Key);

/// <summary>
/// Policy changes in and out: the API and the page's "trigger a change" form both report through
/// <see cref="CreateAsync"/>; lists read newest first, a page at a time.
/// </summary>
public sealed class PolicyChangeService(WebhookHubDbContext db, IWriteGate writes, FanoutDispatcher dispatcher, TimeProvider time)
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
        // The source is rendered as a link: a javascript: or data: URL would run in an admin's session.
        if (!errors.ContainsKey("source")
            && !(Uri.TryCreate(input.Source!.Trim(), UriKind.Absolute, out var source)
                 && (source.Scheme == Uri.UriSchemeHttps || source.Scheme == Uri.UriSchemeHttp)))
            errors["source"] = "source must be an absolute http or https URL.";
        Require(errors, "diff", input.Diff, MaxDiffChars);
        if (input.Summary is { Length: > MaxSummaryChars }) errors["summary"] = $"summary must be at most {MaxSummaryChars} characters.";
        if (input.DetectedAt?.ToUniversalTime() > now.AddMinutes(5)) errors["detectedAt"] = "detectedAt must not be in the future.";
        return errors;
    }

    /// <param name="idempotency">When given, a repeat within 24 h answers with the first change (same body) or
    /// <see cref="PolicyChangeOutcome.KeyReused"/> (another body), and never stores a second change.</param>
    public async Task<PolicyChangeOutcome> CreateAsync(PolicyChangeInput input, CancellationToken ct, IdempotencyClaim? idempotency = null)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var errors = Validate(input, now);
        if (errors.Count > 0) return new PolicyChangeOutcome.Invalid(errors);

        var requestHash = idempotency is null ? null : Fingerprint(input);
        if (idempotency is not null && await EarlierAnswerAsync(idempotency, requestHash!, now, ct) is { } earlier)
            return earlier;

        var change = new PolicyChange
        {
            Id = Guid.CreateVersion7(), Route = input.Route!.Trim(), Source = input.Source!.Trim(), Diff = input.Diff!,
            Summary = input.Summary, DetectedAt = input.DetectedAt?.ToUniversalTime() ?? now, CreatedAt = now,
        };
        db.PolicyChanges.Add(change);
        if (idempotency is not null)
            db.IdempotencyKeys.Add(new IdempotencyKey
            {
                UserId = idempotency.UserId, Key = idempotency.Key, RequestHash = requestHash!, PolicyChangeId = change.Id, CreatedAt = now,
            });
        try
        {
            // One small row, urgent on the write gate: it waits only for the write in progress, not behind the
            // queue of fan-out batches, so a report is answered at once even mid fan-out.
            await writes.SaveChangesAsync(db, ct, urgent: true);
        }
        catch (DbUpdateException) when (idempotency is not null)
        {
            // A concurrent request with the same key saved first (the key is the primary key, so the change
            // and the key went in together or not at all): answer as its repeat.
            db.ChangeTracker.Clear();
            return await EarlierAnswerAsync(idempotency, requestHash!, now, ct) ?? throw new InvalidOperationException(
                "The idempotency key could not be saved, and no earlier request holds it.");
        }
        // Stored first: if the process dies before the fan-out, FannedOutAt stays null and the owed-job sweep finds it.
        dispatcher.Dispatch(change.Id);
        return new PolicyChangeOutcome.Accepted(change);
    }

    /// <summary>The answer a request with this key already got, or null when the key is new (or older than 24 h, then forgotten).</summary>
    private async Task<PolicyChangeOutcome?> EarlierAnswerAsync(IdempotencyClaim claim, string requestHash, DateTime now, CancellationToken ct)
    {
        var earlier = await db.IdempotencyKeys.FirstOrDefaultAsync(k => k.UserId == claim.UserId && k.Key == claim.Key, ct);
        if (earlier is null) return null;
        if (earlier.CreatedAt <= now - IdempotencyKey.Lifetime)
        {
            db.IdempotencyKeys.Remove(earlier); // saved with the new change
            return null;
        }
        if (earlier.RequestHash != requestHash) return new PolicyChangeOutcome.KeyReused();
        var change = await db.PolicyChanges.AsNoTracking().FirstOrDefaultAsync(p => p.Id == earlier.PolicyChangeId, ct);
        return change is null ? new PolicyChangeOutcome.KeyReused() : new PolicyChangeOutcome.Accepted(change);
    }

    /// <summary>The request's fields as sent (JSON of the input), hashed: the same body gives the same hash.</summary>
    private static string Fingerprint(PolicyChangeInput input) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(input)));

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
