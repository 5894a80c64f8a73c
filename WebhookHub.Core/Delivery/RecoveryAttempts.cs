using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>What a redrive or a probe did with one delivery.</summary>
public abstract record RedriveResult
{
    private RedriveResult() { }

    /// <summary>Nothing to do: delivered meanwhile, already on the wire, or the webhook is off.</summary>
    public sealed record Skipped : RedriveResult;

    /// <summary>Its lane would not take it now (full, or the circuit opened again).</summary>
    public sealed record Held(DateTime Until, string Reason) : RedriveResult;

    public sealed record Attempted(AttemptStatus Status, int? StatusCode, long DurationMs) : RedriveResult;
}

/// <summary>
/// The attempts a recovering endpoint gets outside Hangfire: the breaker's probe of an open circuit
/// (<see cref="EndpointSupervisor"/>) and the slow-start redrive once it closes (<see cref="RedriveRunner"/>).
/// </summary>
public sealed class RecoveryAttempts(WebhookHubDbContext db, AttemptRunner runner, RetryJobs retryJobs, EndpointLanes lanes, TimeProvider time)
{
    /// <summary>
    /// Attempts one delivery now. A dead letter (or any delivery when <paramref name="redrive"/>) starts a fresh
    /// budget recorded as <c>redrive</c>; its old Hangfire job gives way, and the attempt's result makes the next one as usual.
    /// </summary>
    public async Task<RedriveResult> AttemptNowAsync(Guid deliveryId, bool redrive, CancellationToken ct)
    {
        var delivery = await db.Deliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        if (delivery is null || delivery.Status is not (DeliveryStatus.Failed or DeliveryStatus.Retrying) || lanes.IsInFlight(deliveryId))
            return new RedriveResult.Skipped();
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == delivery.WebhookId, ct);
        if (webhook is null || !webhook.IsActive || webhook.DeletedAt is not null) return new RedriveResult.Skipped();
        var evt = await db.Events.AsNoTracking().FirstAsync(e => e.Id == delivery.EventId, ct);

        if (lanes.TryEnter(webhook, delivery.Id) is Admission.Wait wait) return new RedriveResult.Held(wait.Until, wait.Reason);
        if (!await runner.StillAsReadAsync(delivery, ct)) return new RedriveResult.Skipped();
        if (delivery.HangfireJobId is { } old) retryJobs.Delete(old);
        delivery.HangfireJobId = null;
        if (redrive || delivery.Status == DeliveryStatus.Failed)
        {
            delivery.BudgetStartsAfterAttempt = delivery.AttemptCount;
            delivery.BudgetTrigger = AttemptTrigger.Redrive;
        }
        delivery.Status = DeliveryStatus.Retrying;
        var attempt = (await runner.RunAsync(evt, [(delivery, webhook)], null, followUps: true, ct)).Single();
        return new RedriveResult.Attempted(attempt.Status, attempt.StatusCode, attempt.DurationMs);
    }

    /// <summary>
    /// The delivery the breaker probes an open endpoint with: its oldest one that is due (parked behind the
    /// circuit, or a retry whose time has come; a retry scheduled later keeps its schedule), else its latest
    /// dead letter since it broke; null when it has neither (the next delivery that comes along probes it).
    /// </summary>
    public async Task<Guid?> ProbeCandidateAsync(Guid webhookId, DateTime brokeAt, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.Deliveries.AsNoTracking()
            .Where(d => d.WebhookId == webhookId && d.EventType != EventTypes.WebhookTest && d.Status == DeliveryStatus.Retrying && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Select(d => (Guid?)d.Id).FirstOrDefaultAsync(ct)
        ?? await db.Deliveries.AsNoTracking()
            .Where(d => d.WebhookId == webhookId && d.EventType != EventTypes.WebhookTest && d.Status == DeliveryStatus.Failed && d.LastAttemptAt >= brokeAt)
            .OrderByDescending(d => d.LastAttemptAt).Select(d => (Guid?)d.Id).FirstOrDefaultAsync(ct);
    }
}
