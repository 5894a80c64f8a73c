using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery.Endpoints;

/// <summary>A redrive's progress, as the dead-letter page and the feed show it.</summary>
/// <param name="StoppedBecause">Set when it ended before its last delivery (the circuit opened again, the app stopped).</param>
public sealed record RedriveProgress(
    Guid WebhookId, int Total, int Done, int Succeeded, int Failed, double PerSecond, bool Finished, string? StoppedBecause,
    DateTime StartedAt, DateTime At) : IDeliveryEvent;

/// <summary>
/// When an endpoint's circuit closes, redelivers what it missed: its dead letters since it broke and its
/// parked deliveries, oldest first, at a slow start (<see cref="SlowStart"/>) that doubles while the
/// endpoint keeps answering 2xx in time. Each attempt is recorded with trigger <c>redrive</c> and goes
/// through the endpoint's lane like any other. If the circuit opens again the redrive stops; the next
/// close starts a new one from the earlier break, so nothing it had not reached is forgotten.
/// </summary>
public sealed partial class RedriveRunner(
    IServiceScopeFactory scopes, CircuitBreaker breaker, DeliveryNotifier notifier, IOptions<WebhookHubOptions> options, TimeProvider time,
    ILogger<RedriveRunner> log)
{
    /// <summary>Most a single redrive takes on; what is left waits for the next close or a person.</summary>
    public const int MaxPerRedrive = 100_000;

    private readonly ConcurrentDictionary<Guid, RedriveProgress> _progress = new();
    private readonly ConcurrentDictionary<Guid, DateTime> _unfinishedSince = new();
    private readonly ConcurrentDictionary<Guid, Task> _running = new();

    /// <summary>The latest redrive of each webhook since the app started (running or ended).</summary>
    public IReadOnlyList<RedriveProgress> All => _progress.Values.OrderByDescending(p => p.StartedAt).ToList();

    public RedriveProgress? Of(Guid webhookId) => _progress.GetValueOrDefault(webhookId);

    /// <summary>Starts the redrive of a webhook whose circuit closed, unless one is running already.</summary>
    public void Start(Guid webhookId, DateTime brokeAt, CancellationToken stopping)
    {
        if (_running.ContainsKey(webhookId)) return;
        var since = _unfinishedSince.TryRemove(webhookId, out var earlier) && earlier < brokeAt ? earlier : brokeAt;
        var task = Task.Run(() => RunAsync(webhookId, since, stopping), CancellationToken.None);
        if (!_running.TryAdd(webhookId, task)) return;
        task.ContinueWith(_ => _running.TryRemove(webhookId, out Task? _), TaskScheduler.Default);
    }

    private async Task RunAsync(Guid webhookId, DateTime since, CancellationToken stopping)
    {
        var started = Now;
        List<Guid> ids;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId, stopping);
            if (webhook is not { IsActive: true, DeletedAt: null, RedriveOnRecovery: true }) return;
            ids = await db.Deliveries.AsNoTracking()
                .Where(d => d.WebhookId == webhookId && d.EventType != EventTypes.WebhookTest
                    && (d.Status == DeliveryStatus.Retrying || (d.Status == DeliveryStatus.Failed && d.LastAttemptAt >= since)))
                .OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).Select(d => d.Id).Take(MaxPerRedrive).ToListAsync(stopping);
        }
        if (ids.Count == 0) return;

        var settings = options.Value.Delivery.Endpoints.Redrive;
        var pace = new SlowStart(settings.InitialPerSecond, settings.MaxPerSecond, TimeSpan.FromMilliseconds(settings.SlowAfterMs));
        var queue = new Queue<Guid>(ids);
        int done = 0, succeeded = 0, failed = 0;
        string? stopped = null;
        LogStarted(webhookId, ids.Count, since);
        Report(new RedriveProgress(webhookId, ids.Count, 0, 0, 0, pace.PerSecond, false, null, started, Now));
        try
        {
            while (queue.Count > 0)
            {
                if (breaker.View(webhookId).State != CircuitState.Closed)
                {
                    stopped = "The endpoint's circuit opened again.";
                    break;
                }
                var second = time.GetTimestamp();
                var batch = Enumerable.Range(0, Math.Min(pace.Batch, queue.Count)).Select(_ => queue.Dequeue()).ToList();
                var results = await Task.WhenAll(batch.Select(id => AttemptAsync(id, stopping)));
                var putBack = new List<Guid>();
                for (var i = 0; i < batch.Count; i++)
                {
                    switch (results[i])
                    {
                        case RedriveResult.Attempted a:
                            done++;
                            if (a.Status == AttemptStatus.Success) succeeded++; else failed++;
                            pace.Observe(a.Status, a.DurationMs);
                            break;
                        case RedriveResult.Held:
                            putBack.Add(batch[i]);
                            break;
                        default:
                            done++;
                            break;
                    }
                }
                // Held ones go first next second, in their order: the lane was full or the circuit is reopening.
                if (putBack.Count > 0) queue = new Queue<Guid>(putBack.Concat(queue));
                pace.EndSecond();
                Report(new RedriveProgress(webhookId, ids.Count, done, succeeded, failed, pace.PerSecond, false, null, started, Now));
                var rest = TimeSpan.FromSeconds(1) - time.GetElapsedTime(second);
                if (rest > TimeSpan.Zero && queue.Count > 0) await Task.Delay(rest, time, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            stopped = "The app is stopping.";
        }
        catch (Exception e)
        {
            stopped = "The redrive failed: " + e.Message;
            LogFailed(e, webhookId);
        }
        if (stopped is not null && queue.Count > 0) _unfinishedSince.AddOrUpdate(webhookId, since, (_, t) => t < since ? t : since);
        Report(new RedriveProgress(webhookId, ids.Count, done, succeeded, failed, pace.PerSecond, true, stopped, started, Now));
        LogEnded(webhookId, done, ids.Count, succeeded, failed, stopped ?? "finished");
    }

    private async Task<RedriveResult> AttemptAsync(Guid deliveryId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RecoveryAttempts>().AttemptNowAsync(deliveryId, redrive: true, ct);
    }

    private void Report(RedriveProgress progress)
    {
        _progress[progress.WebhookId] = progress;
        notifier.Publish(progress);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    [LoggerMessage(Level = LogLevel.Information, Message = "Redrive of webhook {WebhookId} started: {Count} deliveries since {Since:O}")]
    private partial void LogStarted(Guid webhookId, int count, DateTime since);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Redrive of webhook {WebhookId} ended: {Done} of {Total} done, {Succeeded} delivered, {Failed} failed ({Why})")]
    private partial void LogEnded(Guid webhookId, int done, int total, int succeeded, int failed, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redrive of webhook {WebhookId} failed")]
    private partial void LogFailed(Exception e, Guid webhookId);
}
