using System.Collections.Concurrent;
using System.Threading.Channels;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// Runs the fan-out of a just-stored policy change in-process, at once. Measured on this 2-core
/// machine, a Hangfire job per change (enqueue, poll, state changes on SQLite) put seconds between a
/// report and its deliveries at 50 changes/s. Durability does not depend on this queue: a change is
/// stored before it is dispatched, and the minutely Hangfire job <see cref="DeliveryJob.FanOutOwed"/>
/// fans out any change still owed (after a crash, or a full queue). Every fan-out in the process goes
/// through here, so one change is never fanned out twice at once (two runs could each create an event
/// for it, and its receivers would get the change twice under different ids).
/// </summary>
public sealed class FanoutDispatcher(IServiceScopeFactory scopes, IRecurringJobManager recurring, IOptions<WebhookHubOptions> options,
    ILogger<FanoutDispatcher> log) : BackgroundService
{
    public const string OwedJobId = "fan-out-owed";

    /// <summary>
    /// Wait mode, so that <see cref="ChannelWriter{T}.TryWrite"/> says false when the queue is full (DropWrite
    /// would drop the change and still say true, leaving it marked as queued: the sweep would skip it).
    /// Nothing ever waits on it: a full queue leaves the change to the owed sweep.
    /// </summary>
    private readonly Channel<Guid> _queue = Channel.CreateBounded<Guid>(new BoundedChannelOptions(Math.Max(1, options.Value.Delivery.FanoutQueueCapacity))
    {
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Changes queued or fanning out now.</summary>
    private readonly ConcurrentDictionary<Guid, byte> _owned = new();

    /// <summary>
    /// Queues a stored change for fan-out unless it is already queued or running; false only when the
    /// queue is full (the owed-job sweep then picks it up).
    /// </summary>
    public bool Dispatch(Guid policyChangeId)
    {
        if (!_owned.TryAdd(policyChangeId, 0)) return true;
        if (_queue.Writer.TryWrite(policyChangeId)) return true;
        _owned.TryRemove(policyChangeId, out _);
        return false;
    }

    /// <summary>Stored changes waiting for a fan-out worker (part of the queue depth in /metrics).</summary>
    public int Waiting => _queue.Reader.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        recurring.AddOrUpdate<DeliveryJob>(OwedJobId, j => j.FanOutOwed(CancellationToken.None), Cron.Minutely());
        var workers = Enumerable.Range(0, Math.Max(1, options.Value.Delivery.FanoutConcurrency))
            .Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None));
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<FanOut>().RunAsync(id, null, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Left owed (FannedOutAt null or attempts pending): the minutely sweep retries it.
                    log.LogError(e, "Fan-out of policy change {PolicyChangeId} failed; the owed-job sweep will retry it", id);
                }
                finally
                {
                    _owned.TryRemove(id, out _);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
