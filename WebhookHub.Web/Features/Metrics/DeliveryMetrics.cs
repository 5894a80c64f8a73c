using System.Diagnostics.Metrics;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Features.Metrics;

/// <summary>
/// The <c>WebhookHub.Delivery</c> meter. Counts come from the notifier (one more subscriber, so the
/// pipeline knows nothing of metrics), this node's attempts only: on several nodes each scrape counts its own, so
/// Prometheus's sum over the nodes counts every attempt once. The gauges are read when scraped: dead letters from our
/// database, queue depth from this app's own Hangfire storage (never <c>JobStorage.Current</c>, a
/// process-wide static that another app in the same process would have replaced).
/// </summary>
public sealed class DeliveryMetrics : IDisposable
{
    public const string MeterName = "WebhookHub.Delivery";

    private readonly DeliveryNotifier _notifier;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _pickupLag;
    private readonly Counter<long> _overdueRequeued;

    public DeliveryMetrics(IMeterFactory meters, DeliveryNotifier notifier, FanoutDispatcher fanout, JobStorage storage, IServiceScopeFactory scopes)
    {
        _notifier = notifier;
        var meter = meters.Create(MeterName);
        _attempts = meter.CreateCounter<long>("webhookhub.delivery.attempts", "{attempt}",
            "Delivery attempts by outcome: success, retrying (failed, another attempt scheduled) or failed (dead-lettered).");
        _duration = meter.CreateHistogram<double>("webhookhub.delivery.attempt.duration", "s",
            "How long a receiver took to answer an attempt (or to time out).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _pickupLag = meter.CreateHistogram<double>("webhookhub.delivery.retry.pickup_lag", "s",
            "How long after it was due a retry's attempt started (Hangfire's schedule and queue polls, a busy or stalled job store).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800] });
        _overdueRequeued = meter.CreateCounter<long>("webhookhub.delivery.retry.overdue_requeued", "{delivery}",
            "Retries the owed sweep found more than a minute overdue and not running, and requeued.");
        meter.CreateObservableGauge("webhookhub.delivery.dead_letters", () => CountDeadLetters(scopes), "{delivery}",
            "Deliveries waiting in the dead-letter queue.");
        meter.CreateObservableGauge("webhookhub.delivery.queue.depth", () => QueueDepth(fanout, storage), "{job}",
            "Work waiting: fanout (stored policy changes not yet fanned out, in process), enqueued (Hangfire jobs ready to run) and scheduled (retries not yet due).");
        notifier.OwnAttemptRecorded += OnAttempt;
        notifier.RetryPickedUp += OnRetryPickedUp;
        notifier.OverdueRetryRequeued += OnOverdueRequeued;
    }

    private void OnRetryPickedUp(RetryPickedUp e) => _pickupLag.Record(e.Lag.TotalSeconds);

    private void OnOverdueRequeued(OverdueRetryRequeued e) => _overdueRequeued.Add(1);

    private void OnAttempt(AttemptRecorded e)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", e.Status.ToString().ToLowerInvariant());
        _attempts.Add(1, outcome);
        _duration.Record(e.DurationMs / 1000.0, outcome);
    }

    private static int CountDeadLetters(IServiceScopeFactory scopes)
    {
        using var scope = scopes.CreateScope();
        return scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>().Deliveries.Count(d => d.Status == DeliveryStatus.Failed);
    }

    private static IEnumerable<Measurement<long>> QueueDepth(FanoutDispatcher fanout, JobStorage storage)
    {
        yield return new Measurement<long>(fanout.Waiting, new KeyValuePair<string, object?>("state", "fanout"));
        var monitoring = storage.GetMonitoringApi();
        yield return new Measurement<long>(monitoring.Queues().Sum(q => q.Length), new KeyValuePair<string, object?>("state", "enqueued"));
        yield return new Measurement<long>(monitoring.ScheduledCount(), new KeyValuePair<string, object?>("state", "scheduled"));
    }

    public void Dispose()
    {
        _notifier.OwnAttemptRecorded -= OnAttempt;
        _notifier.RetryPickedUp -= OnRetryPickedUp;
        _notifier.OverdueRetryRequeued -= OnOverdueRequeued;
    }
}
