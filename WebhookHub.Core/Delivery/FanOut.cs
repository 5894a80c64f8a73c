using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The prepare step: a stored policy change becomes one event and one delivery per matching webhook, and
/// every first attempt is made at once (<see cref="AttemptRunner"/>). Run in-process by <see cref="FanoutDispatcher"/>,
/// and for what a crash or a full queue left owed by <see cref="OwedAsync"/>. A Hangfire job per first attempt
/// would cap throughput at Hangfire's job rate on SQLite; only deliveries that need more get a job.
/// </summary>
public sealed class FanOut(
    WebhookHubDbContext db,
    IWriteGate writes,
    RowWriter rows,
    AttemptRunner runner,
    RetryJobs retryJobs,
    EndpointLanes lanes,
    FanoutDispatcher dispatcher,
    OverdueRetrySweep overdueRetries,
    IOptions<WebhookHubOptions> options,
    TimeProvider time,
    IFanoutClaims? claims = null)
{
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Idempotent: the event, its deliveries and <see cref="PolicyChange.FannedOutAt"/> are saved in one
    /// transaction, so a re-run (after a crash, or by the owed sweep) finds them and only finishes
    /// what is still owed: first attempts not yet made, follow-up jobs not yet created.
    /// </summary>
    public async Task RunAsync(Guid policyChangeId, string? jobId, CancellationToken ct)
    {
        var change = await db.PolicyChanges.FindAsync([policyChangeId], ct);
        if (change is null) return;

        var active = await db.Webhooks.AsNoTracking().Where(w => w.IsActive && w.DeletedAt == null).ToListAsync(ct);
        var matching = active.Where(w => w.Wants(EventTypes.PolicyChangeDetected, change.Route)).ToList();
        List<Delivery> owed = [];
        Dictionary<Guid, Webhook> webhooks = [];
        // One event per change and type, by a unique index: the in-process dispatcher, the owed sweep (and
        // on PostgreSQL another node) may all reach here; whoever inserts second reads the first one's event.
        Task<WebhookEvent?> Existing() => db.Events.AsNoTracking()
            .FirstOrDefaultAsync(e => e.PolicyChangeId == policyChangeId && e.Type == EventTypes.PolicyChangeDetected, ct);
        var evt = await Existing() ?? await writes.RunAsync(async () =>
        {
            if (await Existing() is { } existing) return existing;
            var now = Now;
            var created = PayloadBuilder.ForPolicyChange(change, now, options.Value.PublicBaseUrl);
            var deliveries = matching.Select(w => NewEvent.DeliveryTo(created, w.Id, now)).ToList();
            change.FannedOutAt = now;
            try
            {
                await NewEvent.SaveAsync(db, rows, created, deliveries, ct);
            }
            catch (Exception e) when (UniqueViolation.Is(e))
            {
                db.Entry(created).State = EntityState.Detached;
                return await Existing() ?? throw new InvalidOperationException($"The event of change {policyChangeId} was reported as a duplicate but is missing.", e);
            }
            owed = deliveries;
            webhooks = matching.ToDictionary(w => w.Id);
            return created;
        }, ct);
        if (owed.Count == 0)
        {
            owed = await db.Deliveries.AsNoTracking()
                .Where(d => d.EventId == evt.Id && (d.Status == DeliveryStatus.Pending
                    || (d.HangfireJobId == null && (d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Failed))))
                .ToListAsync(ct);
            var ids = owed.Select(d => d.WebhookId).Distinct().ToList();
            webhooks = await db.Webhooks.AsNoTracking().Where(w => ids.Contains(w.Id)).ToDictionaryAsync(w => w.Id, ct);
            await retryJobs.CreateFollowUpsAsync(owed.Where(d => d.Status != DeliveryStatus.Pending).ToList(), ct);
        }

        var firstAttempts = owed
            .Where(d => d.Status == DeliveryStatus.Pending && webhooks.ContainsKey(d.WebhookId))
            // Handed off by an earlier run and still on the wire: recorded when it answers.
            .Where(d => !lanes.IsInFlight(d.Id))
            .Select(d => (d, webhooks[d.WebhookId]))
            .ToList();
        // Each first attempt asks its lane (admit): a slow endpoint's backlog is parked there, and its slow sends
        // handed off, so the next change never waits for it.
        await runner.RunAsync(evt, firstAttempts, jobId, followUps: true, ct, runner.HandOffAfter, admit: true);
    }

    /// <summary>
    /// The safety net of <see cref="FanoutDispatcher"/> (the minutely Hangfire job <see cref="DeliveryJob.FanOutOwed"/>):
    /// fans out every change that is still owed a minute after it was stored (a crash, a full queue, a failed
    /// fan-out), re-runs fan-outs whose first attempts never finished, and requeues retries stalled past their
    /// time (<see cref="OverdueRetrySweep"/>). Idempotent like <see cref="RunAsync"/>.
    /// </summary>
    public async Task OwedAsync(CancellationToken ct)
    {
        var before = Now - TimeSpan.FromMinutes(1);
        var changes = await db.PolicyChanges.Where(p => p.FannedOutAt == null && p.CreatedAt < before)
            .OrderBy(p => p.CreatedAt).Select(p => p.Id).Take(1000).ToListAsync(ct);
        var unfinished = await db.Deliveries
            .Where(d => d.PolicyChangeId != null && d.CreatedAt < before
                && (d.Status == DeliveryStatus.Pending || (d.HangfireJobId == null && (d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Failed))))
            .Select(d => d.PolicyChangeId!.Value).Distinct().OrderBy(id => id).Take(1000).ToListAsync(ct);
        // Through the dispatcher, which skips a change that is fanning out right now (slow receivers can
        // keep first attempts pending past the minute). On PostgreSQL a change not yet fanned out is claimable
        // anyway; one with work left is marked owed, and left alone while a node holds it.
        if (claims is not null)
            await claims.MarkOwedAsync(unfinished, ct);
        foreach (var id in changes.Concat(unfinished).Distinct())
            dispatcher.Dispatch(id);
        await overdueRetries.RunAsync(ct);
    }
}
