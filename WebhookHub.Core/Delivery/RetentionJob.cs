using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>How many rows one purge removed, per table.</summary>
public sealed record RetentionResult(int Attempts, int Deliveries, int Events, int Rollups = 0);

/// <summary>
/// The recurring purge of minute rollups older than <see cref="RetentionOptions.RollupDays"/>, and of delivery
/// history older than <see cref="RetentionOptions.Days"/>: attempt rows,
/// finished deliveries, then events no delivery points at any more. Policy changes stay (a receiver's
/// <c>diffUrl</c> points at them). SQLite has one writer, so each batch is its own short transaction,
/// queued at the pipeline's write gate like any other write: a delivery waiting to record its attempt
/// waits for one batch at most, never for the whole purge.
/// Unfinished deliveries (pending, retrying) are never purged, however old.
/// </summary>
public sealed partial class RetentionJob(
    WebhookHubDbContext db, IWriteGate writes, IOptions<WebhookHubOptions> options, TimeProvider time, ILogger<RetentionJob> log)
{
    public const string RecurringJobId = "retention";

    /// <summary>How long minute rollups are kept (at most <see cref="RetentionOptions.RollupDays"/>).</summary>
    public const int MinuteRollupDays = 2;

    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<RetentionResult> PurgeAsync(CancellationToken ct)
    {
        var retention = options.Value.Retention;
        var rollups = await PurgeRollupsAsync(retention.RollupDays, ct);
        if (retention.Days <= 0) return new RetentionResult(0, 0, 0, rollups);
        var cutoff = time.GetUtcNow().UtcDateTime.AddDays(-retention.Days);
        var batch = Math.Max(1, retention.BatchSize);

        var attempts = await DeleteInBatchesAsync(
            () => db.Attempts.Where(a => a.CreatedAt < cutoff).OrderBy(a => a.CreatedAt).Select(a => a.Id).Take(batch),
            ids => writes.RunAsync(() => db.Attempts.Where(a => ids.Contains(a.Id)).ExecuteDeleteAsync(ct), ct), ct);
        var deliveries = await DeleteInBatchesAsync(
            () => db.Deliveries
                .Where(d => d.UpdatedAt < cutoff
                    && (d.Status == DeliveryStatus.Success || d.Status == DeliveryStatus.Failed || d.Status == DeliveryStatus.Cancelled))
                .OrderBy(d => d.UpdatedAt).Select(d => d.Id).Take(batch),
            // The database cascades to attempt rows; any left are as old as their delivery.
            ids => writes.RunAsync(() => db.Deliveries.Where(d => ids.Contains(d.Id)).ExecuteDeleteAsync(ct), ct), ct);
        var events = await DeleteInBatchesAsync(
            () => db.Events
                .Where(e => e.CreatedAt < cutoff && !db.Deliveries.Any(d => d.EventId == e.Id))
                .OrderBy(e => e.CreatedAt).Select(e => e.Id).Take(batch),
            ids => writes.RunAsync(() => db.Events.Where(e => ids.Contains(e.Id)).ExecuteDeleteAsync(ct), ct), ct);

        // Idempotency keys are only honoured for 24 h; older ones are dead weight.
        var keysBefore = time.GetUtcNow().UtcDateTime - Events.IdempotencyKey.Lifetime;
        await writes.RunAsync(() => db.IdempotencyKeys.Where(k => k.CreatedAt < keysBefore).ExecuteDeleteAsync(ct), ct);

        var result = new RetentionResult(attempts, deliveries, events, rollups);
        LogPurged(retention.Days, cutoff, result.Attempts, result.Deliveries, result.Events);
        return result;
    }

    /// <summary>
    /// Hour and day rollups older than <see cref="RetentionOptions.RollupDays"/>; minute rollups after
    /// <see cref="MinuteRollupDays"/> (only the 15-minute and 1-hour windows read them, and a busy hub has
    /// 1,440 per webhook a day). Oldest first, 60 periods per transaction (a few thousand rows at most).
    /// </summary>
    private async Task<int> PurgeRollupsAsync(int days, CancellationToken ct)
    {
        if (days <= 0) return 0;
        var now = time.GetUtcNow().UtcDateTime;
        var total = 0;
        foreach (var span in Rollup.Spans)
        {
            var cutoff = now.AddDays(-(span == Rollup.Minute ? Math.Min(days, MinuteRollupDays) : days));
            while (await db.Rollups.Where(r => r.SpanMinutes == span && r.Start < cutoff).OrderBy(r => r.Start)
                       .Select(r => (DateTime?)r.Start).FirstOrDefaultAsync(ct) is { } oldest)
            {
                var upTo = oldest.AddMinutes(60.0 * span) < cutoff ? oldest.AddMinutes(60.0 * span) : cutoff;
                total += await writes.RunAsync(() => db.Rollups.Where(r => r.SpanMinutes == span && r.Start < upTo).ExecuteDeleteAsync(ct), ct);
            }
        }
        if (total > 0) LogRollupsPurged(days, total);
        return total;
    }

    /// <summary>Select a batch of keys, delete them, repeat until none is left; each delete commits on its own.</summary>
    private static async Task<int> DeleteInBatchesAsync<TKey>(
        Func<IQueryable<TKey>> nextBatch, Func<List<TKey>, Task<int>> delete, CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            var ids = await nextBatch().ToListAsync(ct);
            if (ids.Count == 0) return total;
            total += await delete(ids);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention ({Days} days, before {Cutoff:o}) purged {Attempts} attempt rows, {Deliveries} deliveries and {Events} events")]
    private partial void LogPurged(int days, DateTime cutoff, int attempts, int deliveries, int events);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention ({Days} days for rollups, minute rollups 2) purged {Rollups} rollups")]
    private partial void LogRollupsPurged(int days, int rollups);
}
