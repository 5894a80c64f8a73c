using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>What the startup sweep found owed and handed back: changes to fan out, deliveries given a retry job.</summary>
public sealed record RecoveryResult(int FanOuts, int Deliveries);

/// <summary>
/// The startup sweep for work a crash left owed. Fan-outs run in-process (<see cref="FanoutDispatcher"/>),
/// so after a crash nothing is running them: every change not yet fanned out, and every change with first
/// attempts still pending, is fanned out again at once — <see cref="DeliveryJob.FanOutOwed"/> would also
/// find them, but only after they are a minute old and on its next minutely run. And a delivery row and
/// its Hangfire job are written in separate transactions (on SQLite, separate files), so a <c>retrying</c>
/// delivery may name a retry job Hangfire never stored, or none: it gets a new one. Run before the Hangfire
/// server and the dispatcher start, so nothing changes under it; jobs the dead process was running are
/// left alone (<see cref="IJobStore.LiveJobIds"/> counts them; on SQLite they are already back in the queue,
/// on PostgreSQL they come back when their invisibility lapses), so nothing healthy runs twice.
/// Idempotent: a fan-out finds its event, and (EventId, WebhookId) is unique.
/// </summary>
public sealed partial class DeliveryRecovery(
    WebhookHubDbContext db, IWriteGate writes, FanoutDispatcher dispatcher, RetryJobs retryJobs, ILogger<DeliveryRecovery> log,
    IFanoutClaims? claims = null)
{
    /// <param name="liveJobIds">Hangfire jobs that will run on their own (enqueued, scheduled, processing).</param>
    public async Task<RecoveryResult> RunAsync(IReadOnlySet<string> liveJobIds, CancellationToken ct)
    {
        var unfinished = await db.Deliveries
            .Where(d => d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying)
            .ToListAsync(ct);
        var changes = await db.PolicyChanges.Where(p => p.FannedOutAt == null).Select(p => p.Id).ToListAsync(ct);
        changes = changes
            .Concat(unfinished.Where(d => d.Status == DeliveryStatus.Pending && d.PolicyChangeId is not null).Select(d => d.PolicyChangeId!.Value))
            .Distinct()
            .ToList();

        // Retries whose job is gone, and test events (no fan-out to redo them) left before their first attempt.
        var orphans = unfinished
            .Where(d => d.Status == DeliveryStatus.Retrying || d.PolicyChangeId is null)
            .Where(d => d.HangfireJobId is null || !liveJobIds.Contains(d.HangfireJobId))
            .ToList();
        foreach (var delivery in orphans) delivery.HangfireJobId = retryJobs.Enqueue(delivery.Id);
        // Saved before the fan-outs run, so a fan-out's own repair of job-less retries does not make a second job.
        await writes.SaveChangesAsync(db, ct);
        // On PostgreSQL a change is fanned out by whichever worker claims it: owed ones are made claimable, except
        // those a node holds (a live node's, or a dead one's until its lease runs out).
        if (claims is not null) await claims.MarkOwedAsync(changes, ct);
        foreach (var change in changes) dispatcher.Dispatch(change);

        if (changes.Count > 0 || orphans.Count > 0) LogRecovered(changes.Count, orphans.Count);
        return new RecoveryResult(changes.Count, orphans.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Recovered work a previous run left owed: {FanOuts} policy changes fanned out again, {Deliveries} deliveries given a new retry job")]
    private partial void LogRecovered(int fanOuts, int deliveries);
}
