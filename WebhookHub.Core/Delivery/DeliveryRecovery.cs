using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>What the startup sweep found owed and handed back to Hangfire.</summary>
public sealed record RecoveryResult(int FanOuts, int Deliveries);

/// <summary>
/// The Hangfire jobs that will run without anyone's help (enqueued, scheduled, processing), as read from
/// the job storage: their ids, and the policy changes whose fan-out is among them.
/// </summary>
public sealed record LiveJobs(IReadOnlySet<string> JobIds, IReadOnlySet<Guid> FanOutChangeIds);

/// <summary>
/// The startup sweep for work that app.db says is owed but hangfire.db has no job for. The two are
/// separate SQLite files, so no transaction spans them: a crash after a policy change is saved but
/// before its fan-out job is enqueued, or after an attempt is recorded but before its retry job is
/// created, leaves a debt only app.db knows about. Run before the Hangfire server starts, so the job
/// list it is given cannot change under it; jobs the dead process was running are already back in the
/// queue (HangfireStorageFactory) and are left to run, so nothing healthy runs twice. Re-enqueueing
/// is idempotent: a fan-out finds its event, and (EventId, WebhookId) is unique.
/// </summary>
public sealed partial class DeliveryRecovery(WebhookHubDbContext db, IBackgroundJobClient jobs, ILogger<DeliveryRecovery> log)
{
    public async Task<RecoveryResult> RunAsync(LiveJobs live, CancellationToken ct)
    {
        var fanOutsRunning = live.FanOutChangeIds.ToHashSet();
        var owedChanges = await db.PolicyChanges.Where(p => p.FannedOutAt == null).Select(p => p.Id).ToListAsync(ct);
        var fanOuts = 0;
        foreach (var changeId in owedChanges.Where(id => !fanOutsRunning.Contains(id)))
        {
            jobs.Enqueue<DeliveryJob>(j => j.FanOut(changeId, null, CancellationToken.None));
            fanOutsRunning.Add(changeId);
            fanOuts++;
        }

        var unfinished = await db.Deliveries
            .Where(d => d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying)
            .ToListAsync(ct);
        var orphans = unfinished
            .Where(d => d.HangfireJobId is null || !live.JobIds.Contains(d.HangfireJobId))
            // A pending delivery whose fan-out runs again gets its first attempt there.
            .Where(d => !(d.Status == DeliveryStatus.Pending && d.PolicyChangeId is { } change && fanOutsRunning.Contains(change)))
            .ToList();
        foreach (var delivery in orphans)
        {
            var id = delivery.Id;
            delivery.HangfireJobId = jobs.Enqueue<DeliveryJob>(j => j.Retry(id, null, CancellationToken.None));
        }
        await db.SaveChangesAsync(ct);

        if (fanOuts > 0 || orphans.Count > 0) LogRecovered(fanOuts, orphans.Count);
        return new RecoveryResult(fanOuts, orphans.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Recovered work a previous run left without a job: {FanOuts} fan-outs and {Deliveries} deliveries enqueued again")]
    private partial void LogRecovered(int fanOuts, int deliveries);
}
