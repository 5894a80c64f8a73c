using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The safety net that does not trust Hangfire's timing: a <c>retrying</c> delivery whose next attempt is
/// more than <see cref="Grace"/> past and whose job is neither running nor scheduled for later is requeued
/// (its job back in the queue, or a new job when Hangfire has none). Whatever stalls a retry (a lost lock
/// wake-up, a scheduler that stopped), it waits at most a minute and a sweep, not Hangfire's 30-minute
/// invisibility timeout.
/// Run by the minutely owed sweep (<see cref="DeliveryJob.FanOutOwed"/>).
/// </summary>
public sealed partial class OverdueRetrySweep(
    WebhookHubDbContext db, IWriteGate writes, RowWriter rows, RetryJobs retryJobs, JobStorage storage,
    DeliveryNotifier notifier, TimeProvider time, ILogger<OverdueRetrySweep> log)
{
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    /// <summary>Requeues the overdue retries (at most 1,000 a run, the longest overdue first); returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var cutoff = now - Grace;
        var overdue = await db.Deliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Retrying && d.NextAttemptAt < cutoff)
            .OrderBy(d => d.NextAttemptAt).Take(1000)
            .ToListAsync(ct);
        if (overdue.Count == 0) return 0;

        var requeued = new List<Delivery>();
        var newJobs = new List<Delivery>();
        using (var connection = storage.GetConnection())
        {
            foreach (var delivery in overdue)
            {
                var state = delivery.HangfireJobId is { } id ? connection.GetJobData(id)?.State : null;
                if (state == ProcessingState.StateName) continue; // running now: its attempt will be recorded
                // A job scheduled for later is on its way, not stalled: a delivery parked behind its endpoint's
                // lane or open circuit keeps its earliest time on the row and wakes its job later.
                if (state == ScheduledState.StateName && ScheduledFor(connection, delivery.HangfireJobId!) > cutoff) continue;
                // Only from the state just read, so a worker that picked the job up meanwhile keeps it.
                if (state is not null && retryJobs.Requeue(delivery.HangfireJobId!, RetryJobs.OverdueRequeued, state))
                {
                    requeued.Add(delivery);
                }
                else if (state is null)
                {
                    delivery.HangfireJobId = retryJobs.Enqueue(delivery.Id);
                    newJobs.Add(delivery);
                }
            }
        }
        if (newJobs.Count > 0)
            await writes.RunAsync(() => rows.UpdateAsync(newJobs, [nameof(Delivery.HangfireJobId)], ct), ct);

        foreach (var delivery in requeued.Concat(newJobs))
        {
            var late = now - delivery.NextAttemptAt!.Value;
            LogRequeued(delivery.Id, delivery.WebhookId, late.TotalSeconds, delivery.HangfireJobId);
            notifier.Publish(new OverdueRetryRequeued(delivery.WebhookId, delivery.Id, late, now));
        }
        return requeued.Count + newJobs.Count;
    }

    private static DateTime? ScheduledFor(IStorageConnection connection, string jobId) =>
        connection.GetStateData(jobId) is { Name: var name, Data: var data } && name == ScheduledState.StateName
            && data.TryGetValue("EnqueueAt", out var at) ? JobHelper.DeserializeNullableDateTime(at) : null;

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Delivery {DeliveryId} to webhook {WebhookId}: its retry was {OverdueSeconds:0} s overdue and not running; requeued (job {JobId})")]
    private partial void LogRequeued(Guid deliveryId, Guid webhookId, double overdueSeconds, string? jobId);
}
