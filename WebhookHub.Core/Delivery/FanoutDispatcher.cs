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
/// fans out any change still owed (after a crash, or a full queue). One change is never fanned out twice
/// at once (two runs would each send its first attempts): on SQLite every fan-out is in this process and the
/// in-memory set below is the claim; on PostgreSQL, where several nodes share the database, a node runs only
/// changes it has claimed there (<see cref="IFanoutClaims"/>), and holds the claim until the run and the sends it
/// handed off are recorded. A web node (<see cref="NodeRole.Web"/>) runs no fan-out: its stored changes are
/// claimed by the workers.
/// </summary>
public sealed partial class FanoutDispatcher(IServiceScopeFactory scopes, IRecurringJobManager recurring, IOptions<WebhookHubOptions> options,
    ILogger<FanoutDispatcher> log, IFanoutClaims? claims = null) : BackgroundService
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

    /// <summary>On PostgreSQL: changes this node has claimed, and how many runs or handed-off sends still need each claim.</summary>
    private readonly ConcurrentDictionary<Guid, Hold> _held = new();

    /// <summary>Wakes the claim loop: a change was stored (here, or on another node by NOTIFY), or a fan-out worker came free.</summary>
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private int Workers => Math.Max(1, options.Value.Delivery.FanoutConcurrency);

    /// <summary>
    /// Queues a stored change for fan-out unless it is already queued or running; false only when the
    /// queue is full (the owed-job sweep then picks it up). On PostgreSQL the change is in the database for any
    /// worker to claim: this only wakes this node's claim loop.
    /// </summary>
    public bool Dispatch(Guid policyChangeId)
    {
        if (claims is not null)
        {
            _wake.Writer.TryWrite(true);
            return true;
        }
        return Enqueue(policyChangeId);
    }

    private bool Enqueue(Guid policyChangeId)
    {
        if (!_owned.TryAdd(policyChangeId, 0)) return true;
        if (_queue.Writer.TryWrite(policyChangeId)) return true;
        _owned.TryRemove(policyChangeId, out _);
        return false;
    }

    /// <summary>Stored changes waiting for a fan-out worker (part of the queue depth in /metrics).</summary>
    public int Waiting => _queue.Reader.Count;

    /// <summary>
    /// Keeps this node's claim on the change while a handed-off send is out (its record comes later, in a scope of
    /// its own); dispose when it is recorded. Nothing to hold on SQLite, or for a change this node has not claimed.
    /// </summary>
    public IDisposable? HoldClaim(Guid? policyChangeId)
    {
        if (claims is null || policyChangeId is not { } id) return null;
        while (_held.TryGetValue(id, out var hold))
            if (hold.TryAdd()) return new Release(this, id, hold);
        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Role.RunsBackgroundWork()) return;
        recurring.AddOrUpdate<DeliveryJob>(OwedJobId, j => j.FanOutOwed(CancellationToken.None), Cron.Minutely());
        List<Task> loops = Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None)).ToList();
        if (claims is not null)
        {
            await claims.TakeBackOwnAsync(stoppingToken);
            loops.Add(Task.Run(() => ClaimLoopAsync(stoppingToken), CancellationToken.None));
            loops.Add(Task.Run(() => RenewLoopAsync(stoppingToken), CancellationToken.None));
            loops.Add(Task.Run(() => claims.ListenAsync(() => _wake.Writer.TryWrite(true), stoppingToken), CancellationToken.None));
        }
        await Task.WhenAll(loops);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var failed = false;
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<FanOut>().RunAsync(id, null, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Left owed (FannedOutAt null or attempts pending): the minutely sweep retries it.
                    failed = true;
                    log.LogError(e, "Fan-out of policy change {PolicyChangeId} failed; the owed-job sweep will retry it", id);
                }
                finally
                {
                    _owned.TryRemove(id, out _);
                    if (_held.TryGetValue(id, out var hold)) await LetGoAsync(id, hold, failed);
                    _wake.Writer.TryWrite(true); // a worker is free: claim more
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Claims as many stored changes as this node can start soon (two per fan-out worker, minus what it is running),
    /// so that with several workers each takes its share instead of one queueing everything.
    /// </summary>
    private async Task ClaimLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var room = 2 * Workers - _owned.Count;
                var claimed = await claims!.ClaimAsync(room, stoppingToken);
                foreach (var id in claimed)
                {
                    var hold = new Hold();
                    // Already held: its lease had run out while this node still ran it (a stall), and it claimed it back.
                    if (!_held.TryAdd(id, hold)) continue;
                    if (!Enqueue(id)) await LetGoAsync(id, hold, failed: true); // the queue is full: not below the room asked for
                }
                if (claimed.Count > 0 && claimed.Count == room) continue; // there may be more: claim again once a worker frees
                // Wait for a NOTIFY, a local change or a free worker; at most a second (expired leases, a missed NOTIFY).
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                tick.CancelAfter(TimeSpan.FromSeconds(1));
                try { await _wake.Reader.ReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested) { }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogClaimFailed(e);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task RenewLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(IFanoutClaims.RenewEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var held = _held.Keys.ToList();
                    var renewed = await claims!.RenewAsync(held, stoppingToken);
                    // Still held here but no longer ours in the database: this node stalled longer than the lease and
                    // another took them over. Both may now send them (at least once; receivers deduplicate).
                    // (Released meanwhile: no longer in _held, which is emptied before the release is written.)
                    var lost = held.Count(id => _held.ContainsKey(id) && !renewed.Contains(id));
                    if (lost > 0) LogLeasesLost(lost);
                }
                catch (Exception e) when (e is not OperationCanceledException) { LogRenewFailed(e); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One user of the claim is done; the last one releases it in the database.</summary>
    private async Task LetGoAsync(Guid id, Hold hold, bool failed)
    {
        if (!hold.Remove(failed)) return;
        _held.TryRemove(new KeyValuePair<Guid, Hold>(id, hold));
        try { await claims!.ReleaseAsync(id, hold.Failed, CancellationToken.None); }
        catch (Exception e) { LogReleaseFailed(e, id); } // its lease runs out instead
    }

    /// <summary>Users of one claim: the run, then each handed-off send. Once at zero it is closed for good.</summary>
    private sealed class Hold
    {
        private int _users = 1;
        public bool Failed { get; private set; }

        public bool TryAdd()
        {
            lock (this)
            {
                if (_users == 0) return false;
                _users++;
                return true;
            }
        }

        /// <summary>True when this was the last user.</summary>
        public bool Remove(bool failed)
        {
            lock (this)
            {
                Failed |= failed;
                return --_users == 0;
            }
        }
    }

    private sealed class Release(FanoutDispatcher dispatcher, Guid id, Hold hold) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) _ = dispatcher.LetGoAsync(id, hold, failed: false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming stored changes failed; trying again in a second")]
    private partial void LogClaimFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} fan-out claims of this node were taken over by another node (it stalled longer than the lease)")]
    private partial void LogLeasesLost(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing this node's fan-out claims failed")]
    private partial void LogRenewFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the fan-out claim on policy change {PolicyChangeId} failed; its lease runs out instead")]
    private partial void LogReleaseFailed(Exception e, Guid policyChangeId);
}
