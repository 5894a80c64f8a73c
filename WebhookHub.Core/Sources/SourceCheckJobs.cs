using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Sources;

/// <summary>
/// The check schedule, as Hangfire jobs. One recurring job, <see cref="RecurringJobId"/>, every
/// <see cref="SweepSeconds"/> s (a 6-field cron: Hangfire 1.8 reads seconds, and its recurring scheduler polls
/// every <c>SchedulePollingInterval</c>, 200 ms here), claims the active sources whose <see cref="Source.NextCheckAt"/>
/// has come and enqueues one <see cref="CheckAsync"/> job each. Only nodes with a Hangfire server run them; Hangfire
/// creates each occurrence once whatever the number of nodes, and a claim is a conditional update of
/// <c>next_check_at</c> (from the time read to now + <see cref="Lease"/>), so a source is enqueued once even by
/// two sweeps at once. The check sets the real next time when it ends; a check lost to a crash leaves the lease,
/// and the source is due again when it runs out. Intervals, crons, backoff and Retry-After are all just that time.
/// </summary>
public sealed partial class SourceCheckJobs(
    WebhookHubDbContext db, IWriteGate writes, IBackgroundJobClient jobs, SourceChecker checker, TimeProvider time, ILogger<SourceCheckJobs> log)
{
    public const string RecurringJobId = "sources-due";
    public const int SweepSeconds = 5;
    public static readonly string SweepCron = $"*/{SweepSeconds} * * * * *";

    /// <summary>How long a claimed source waits for its check before it is due again (a check lost to a crash).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Checks enqueued by one sweep at most; the rest stay due for the next one, seconds later.</summary>
    public const int MaxPerSweep = 20;

    /// <summary>
    /// Claims due sources and enqueues their checks: the longest due first, one source per host per sweep, so
    /// sources on one site are spread over sweeps instead of waiting in the fetcher's per-host spacing while
    /// they hold Hangfire workers that deliveries need.
    /// </summary>
    [AutomaticRetry(Attempts = 0)]
    [ShortHistory]
    public async Task<int> EnqueueDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var due = await db.Sources.AsNoTracking()
            .Where(s => s.IsActive && s.NextCheckAt != null && s.NextCheckAt <= now)
            .OrderBy(s => s.NextCheckAt).Take(MaxPerSweep * 10)
            .Select(s => new { s.Id, s.Url, s.NextCheckAt })
            .ToListAsync(ct);
        var enqueued = 0;
        foreach (var source in due.DistinctBy(s => Host(s.Url)).Take(MaxPerSweep))
        {
            var claimed = await writes.RunAsync(() => db.Sources
                .Where(s => s.Id == source.Id && s.IsActive && s.NextCheckAt == source.NextCheckAt)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.NextCheckAt, now + Lease), ct), ct);
            if (claimed == 0) continue; // another sweep, a save or a check moved it meanwhile
            jobs.Enqueue<SourceCheckJobs>(j => j.CheckAsync(source.Id, CancellationToken.None));
            enqueued++;
        }
        if (enqueued > 0) LogEnqueued(enqueued);
        return enqueued;
    }

    /// <summary>
    /// One scheduled check. A failed check is recorded and backed off by the checker, never retried by Hangfire: the
    /// schedule goes on. Only an exception the checker could not record (the database gone) fails the job, and then the
    /// claim's lease brings the source back.
    /// </summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task CheckAsync(Guid sourceId, CancellationToken ct)
    {
        // Switched off or deleted since it was claimed: nothing to do.
        if (!await db.Sources.AnyAsync(s => s.Id == sourceId && s.IsActive, ct)) return;
        await checker.CheckAsync(sourceId, SourceChecker.Scheduled, ct);
    }

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority.ToLowerInvariant() : url;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Enqueued {Count} source checks")]
    private partial void LogEnqueued(int count);
}

/// <summary>
/// A sweep that runs every few seconds would keep 17,000 succeeded jobs a day in Hangfire's storage and its
/// dashboard; its succeeded runs are kept ten minutes instead of Hangfire's day.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ShortHistoryAttribute : JobFilterAttribute, IApplyStateFilter
{
    public static readonly TimeSpan Kept = TimeSpan.FromMinutes(10);

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is not SucceededState) return;
        context.JobExpirationTimeout = Kept;
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction) { }
}
