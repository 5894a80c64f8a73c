using Microsoft.Extensions.Options;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery.Endpoints;

/// <summary>Whether an attempt may be sent now, and if not, until when it waits in its lane.</summary>
public abstract record Admission
{
    private Admission() { }

    public sealed record Go(bool Probe) : Admission;

    /// <param name="Until">The earliest it may go.</param>
    /// <param name="LookAgainAt">When its job should wake to ask again: <paramref name="Until"/>, or later for a
    /// delivery parked behind an open circuit (the probe and the redrive do not need its job to wake).</param>
    public sealed record Wait(DateTime Until, string Reason, DateTime LookAgainAt) : Admission
    {
        public Wait(DateTime until, string reason) : this(until, reason, until) { }
    }
}

/// <summary>Who is asking: test sends skip the breaker and the rate cap (they are quota-limited and a person wants the answer).</summary>
public enum LaneUse
{
    Delivery,
    Test,
}

/// <summary>
/// Each endpoint's lane: at most <see cref="EndpointOptions.MaxInFlightPerEndpoint"/> attempts in flight
/// to one webhook and <see cref="EndpointOptions.MaxInFlightPerHost"/> to one host:port, the webhook's
/// optional <see cref="Webhook.MaxPerSecond"/>, and its <see cref="CircuitBreaker"/>. Admission never
/// blocks: what cannot go now is told when to come back, and the caller parks it (a scheduled retry), so
/// a slow endpoint's backlog waits in the schedule, not in a shared fan-out slot or Hangfire worker.
/// Fairness follows: no endpoint holds more than its lane, whatever its backlog. In memory, per node.
/// </summary>
public sealed class EndpointLanes(CircuitBreaker breaker, IOptions<WebhookHubOptions> options, TimeProvider time)
{
    private sealed class Lane
    {
        public int InFlight;
        public double Tokens = -1;
        public DateTime TokensAt;
        public DateTime RateBacklogUntil;
        /// <summary>Moving average of this endpoint's answer times: how soon a slot is likely to free up.</summary>
        public double AverageMs;
    }

    private sealed record InFlight(Guid WebhookId, string Host, bool Probe, long StartedAt);

    /// <summary>One small lane per webhook that was ever attempted, kept for its answer-time average.</summary>
    private readonly Dictionary<Guid, Lane> _lanes = [];
    private readonly Dictionary<string, int> _hosts = [];
    private readonly Dictionary<Guid, InFlight> _inFlight = [];
    /// <summary>Fan-out sends waiting in memory for a slot of a full lane (key: webhook id or host), first come first served.</summary>
    private readonly Dictionary<string, Queue<TaskCompletionSource>> _waiters = [];
    private readonly HashSet<Guid> _waiting = [];
    /// <summary>Answered but not yet recorded: a second run of the same delivery (a duplicate job) must not read the old row and send again.</summary>
    private readonly HashSet<Guid> _recording = [];
    private readonly Lock _lock = new();

    private EndpointOptions Options => options.Value.Delivery.Endpoints;

    /// <summary>Takes a slot for this attempt, or says until when it waits. A <see cref="Admission.Go"/> must be followed by <see cref="Leave"/>.</summary>
    public Admission TryEnter(Webhook webhook, Guid deliveryId, LaneUse use = LaneUse.Delivery)
    {
        lock (_lock) return TryEnterLocked(webhook, deliveryId, use, out _);
    }

    /// <summary>
    /// For a fan-out's send, which has already been handed off or soon will be: when only the lane (or the
    /// host) is full, waits in memory for a slot, first come first served, instead of parking in Hangfire;
    /// an open circuit or the rate cap still answers <see cref="Admission.Wait"/> (park). While it waits the
    /// delivery counts as in flight, so the owed sweep does not send it a second time. After
    /// <see cref="MaxLaneWait"/> it stops waiting and is parked like the rest: a slot that long in coming
    /// means a slow endpoint, and a delivery left pending that long would look owed to the minutely sweep.
    /// </summary>
    public async Task<Admission> EnterAsync(Webhook webhook, Guid deliveryId, CancellationToken ct)
    {
        var waited = time.GetTimestamp();
        while (true)
        {
            TaskCompletionSource slot;
            lock (_lock)
            {
                var admission = TryEnterLocked(webhook, deliveryId, LaneUse.Delivery, out var fullKey);
                if (admission is Admission.Go || fullKey is null || time.GetElapsedTime(waited) >= MaxLaneWait) return admission;
                slot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!_waiters.TryGetValue(fullKey, out var queue)) _waiters[fullKey] = queue = new Queue<TaskCompletionSource>();
                queue.Enqueue(slot);
                _waiting.Add(deliveryId);
            }
            try { await slot.Task.WaitAsync(MaxLaneWait, time, ct); }
            catch (TimeoutException)
            {
                // Leaves its place in the queue to the next (WakeOne skips a cancelled waiter) and asks once more.
                slot.TrySetCanceled(CancellationToken.None);
            }
            finally { lock (_lock) _waiting.Remove(deliveryId); }
        }
    }

    /// <summary>Longest a fan-out's send waits in memory for a slot of a full lane before it is parked instead.</summary>
    public static readonly TimeSpan MaxLaneWait = TimeSpan.FromSeconds(5);

    /// <param name="fullKey">Set when the only reason to wait is a full lane or host: the waiter queue to join.</param>
    private Admission TryEnterLocked(Webhook webhook, Guid deliveryId, LaneUse use, out string? fullKey)
    {
        fullKey = null;
        var now = time.GetUtcNow().UtcDateTime;
        var host = HostOf(webhook.Url);
        {
            if (_inFlight.ContainsKey(deliveryId) || _waiting.Contains(deliveryId))
                return new Admission.Wait(now + TimeSpan.FromSeconds(options.Value.Delivery.TimeoutSeconds), "This delivery is already being attempted.");
            // Answered, and its save takes milliseconds: look again in a second, not after a whole timeout.
            if (_recording.Contains(deliveryId))
                return new Admission.Wait(now + TimeSpan.FromSeconds(1), "This delivery's last attempt is still being saved.");
            var lane = LaneOf(webhook.Id);
            var probe = false;
            if (use == LaneUse.Delivery)
            {
                if (lane.InFlight >= Math.Max(1, Options.MaxInFlightPerEndpoint))
                {
                    fullKey = webhook.Id.ToString();
                    return new Admission.Wait(now + Backoff(webhook.Id, lane), $"{lane.InFlight} attempts are already in flight to this endpoint.");
                }
                if (_hosts.GetValueOrDefault(host) >= Math.Max(1, Options.MaxInFlightPerHost))
                {
                    fullKey = host;
                    return new Admission.Wait(now + Backoff(webhook.Id, lane), $"{Options.MaxInFlightPerHost} attempts are already in flight to {host}.");
                }
                if (webhook.MaxPerSecond is > 0 and var rate && !HasToken(lane, rate, now))
                {
                    lane.RateBacklogUntil = (lane.RateBacklogUntil > now ? lane.RateBacklogUntil : now) + TimeSpan.FromSeconds(1.0 / rate);
                    return new Admission.Wait(lane.RateBacklogUntil, $"The webhook's limit of {rate} a second is reached.");
                }
                switch (breaker.Admit(webhook.Id))
                {
                    case BreakerVerdict.Hold hold:
                        var park = TimeSpan.FromSeconds(Options.Breaker.ParkSeconds * (1 + Random.Shared.NextDouble() * 0.5));
                        return new Admission.Wait(hold.Until, hold.Reason, hold.Until > now + park ? hold.Until : now + park);
                    case BreakerVerdict.Pass pass:
                        probe = pass.Probe;
                        break;
                }
                if (webhook.MaxPerSecond is > 0) lane.Tokens -= 1;
            }
            lane.InFlight++;
            _hosts[host] = _hosts.GetValueOrDefault(host) + 1;
            _inFlight[deliveryId] = new InFlight(webhook.Id, host, probe, time.GetTimestamp());
            return new Admission.Go(probe);
        }
    }

    /// <summary>Frees the slot and tells the breaker what the attempt said; <paramref name="outcome"/> null when it never finished (shutdown).</summary>
    public void Leave(Guid deliveryId, AttemptOutcome? outcome)
    {
        InFlight? entry;
        lock (_lock)
        {
            if (!_inFlight.Remove(deliveryId, out entry)) return;
            if (outcome is not null) _recording.Add(deliveryId);
            var lane = LaneOf(entry.WebhookId);
            lane.InFlight--;
            var ms = time.GetElapsedTime(entry.StartedAt).TotalMilliseconds;
            lane.AverageMs = lane.AverageMs == 0 ? ms : lane.AverageMs * 0.8 + ms * 0.2;
            var host = _hosts.GetValueOrDefault(entry.Host) - 1;
            if (host <= 0) _hosts.Remove(entry.Host);
            else _hosts[entry.Host] = host;
            WakeOne(entry.WebhookId.ToString());
            WakeOne(entry.Host);
        }
        breaker.Record(entry.WebhookId, EndpointSignal.From(outcome, time.GetUtcNow().UtcDateTime), entry.Probe);
    }

    /// <summary>True while an attempt of this delivery is on the wire or waiting for a slot (possibly handed off by a fan-out that moved on).</summary>
    public bool IsInFlight(Guid deliveryId)
    {
        lock (_lock) return _inFlight.ContainsKey(deliveryId) || _waiting.Contains(deliveryId);
    }

    /// <summary>
    /// This delivery waits for a slot of a full lane, or its endpoint has an attempt in flight for longer than
    /// <paramref name="patience"/> (a black hole before its first timeout): a caller serving others should not wait for it.
    /// </summary>
    public bool IsSlow(Guid webhookId, Guid deliveryId, TimeSpan patience)
    {
        lock (_lock)
            return _waiting.Contains(deliveryId)
                || _inFlight.Values.Any(f => f.WebhookId == webhookId && time.GetElapsedTime(f.StartedAt) > patience);
    }

    /// <summary>The attempts of these deliveries are saved (or their saving failed): they may be attempted again.</summary>
    public void Recorded(IEnumerable<Guid> deliveryIds)
    {
        lock (_lock)
            foreach (var id in deliveryIds) _recording.Remove(id);
    }

    /// <summary>A slot freed up: the longest waiter tries again (it may lose the slot to a newcomer and queue again).</summary>
    private void WakeOne(string key)
    {
        if (!_waiters.TryGetValue(key, out var queue)) return;
        while (queue.TryDequeue(out var waiter))
            if (waiter.TrySetResult()) break;
        if (queue.Count == 0) _waiters.Remove(key);
    }

    public int InFlightTo(Guid webhookId)
    {
        lock (_lock) return _lanes.TryGetValue(webhookId, out var lane) ? lane.InFlight : 0;
    }

    /// <summary>The URL's host and port: one server, whatever the path.</summary>
    public static string HostOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.IdnHost}:{uri.Port}".ToLowerInvariant() : url;

    private Lane LaneOf(Guid webhookId)
    {
        if (!_lanes.TryGetValue(webhookId, out var lane)) _lanes[webhookId] = lane = new Lane();
        return lane;
    }

    /// <summary>Token bucket of one second's worth: a webhook at 5 a second may get 5 at once, then one every 200 ms.</summary>
    private static bool HasToken(Lane lane, int rate, DateTime now)
    {
        if (lane.Tokens < 0) { lane.Tokens = rate; lane.TokensAt = now; }
        lane.Tokens = Math.Min(rate, lane.Tokens + (now - lane.TokensAt).TotalSeconds * rate);
        lane.TokensAt = now;
        return lane.Tokens >= 1;
    }

    /// <summary>
    /// When a full lane is worth another look: about one answer time of this endpoint (a black hole's is
    /// the timeout, a busy healthy one's is milliseconds), or longer while its oldest attempt in flight has
    /// already waited longer (a black hole before its first timeout), spread so the
    /// waiters do not come back together. At least a second: a waiting delivery's job costs Hangfire a
    /// round trip each time it looks. Called under the lock.
    /// </summary>
    private TimeSpan Backoff(Guid webhookId, Lane lane)
    {
        var oldest = _inFlight.Values.Where(f => f.WebhookId == webhookId).Select(f => time.GetElapsedTime(f.StartedAt).TotalMilliseconds)
            .DefaultIfEmpty(0).Max();
        var ms = Math.Clamp(Math.Max(lane.AverageMs, oldest), 1000, Math.Max(1000, options.Value.Delivery.TimeoutSeconds * 1000.0));
        return TimeSpan.FromMilliseconds(ms * (1 + Random.Shared.NextDouble() * 0.5));
    }
}
