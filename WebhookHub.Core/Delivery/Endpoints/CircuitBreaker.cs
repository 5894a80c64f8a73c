using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Delivery.Endpoints;

public enum CircuitState
{
    /// <summary>Attempts flow.</summary>
    Closed,
    /// <summary>No attempts until <see cref="CircuitView.NextProbeAt"/>; new deliveries are parked (retrying, scheduled).</summary>
    Open,
    /// <summary>One probe is in flight; its result closes or reopens the circuit.</summary>
    HalfOpen,
}

/// <summary>An endpoint's circuit as the API, the pages and the feed show it.</summary>
/// <param name="BrokeAt">The first failure of the run that opened it: the redrive starts from there.</param>
/// <param name="OpenSince">When it first opened in this run (failed probes do not move it): auto-disable measures from here.</param>
public sealed record CircuitView(
    Guid WebhookId, CircuitState State, int ConsecutiveFailures, DateTime? NextProbeAt, DateTime? BrokeAt, DateTime? OpenSince, string? Reason)
{
    public static CircuitView ClosedFor(Guid webhookId) => new(webhookId, CircuitState.Closed, 0, null, null, null, null);
}

/// <summary>A circuit changed state (published on <see cref="DeliveryNotifier"/> and relayed live).</summary>
public sealed record CircuitChanged(Guid WebhookId, CircuitState State, int ConsecutiveFailures, DateTime? NextProbeAt, string? Reason, DateTime At) : IDeliveryEvent;

/// <summary>What an attempt's result says about its endpoint.</summary>
public abstract record EndpointSignal
{
    private EndpointSignal() { }

    /// <summary>The endpoint answered (a 2xx, or a final 4xx: it is up, the request was refused).</summary>
    public sealed record Answered : EndpointSignal;

    /// <summary>No answer, a timeout, 5xx, 408 or 429 without Retry-After.</summary>
    public sealed record Failed(string Reason) : EndpointSignal;

    /// <summary>A 429 or 503 with Retry-After: the whole endpoint waits, not just this delivery.</summary>
    public sealed record AskedToWait(DateTime Until, string Reason) : EndpointSignal;

    /// <summary>Says nothing about the endpoint (refused by our address policy, cancelled by shutdown).</summary>
    public sealed record Nothing : EndpointSignal;

    public static EndpointSignal From(AttemptOutcome? outcome, DateTime now) => outcome switch
    {
        AttemptOutcome.Succeeded => new Answered(),
        AttemptOutcome.Failed { Retryable: false, StatusCode: not null } => new Answered(),
        AttemptOutcome.Failed { Retryable: true, StatusCode: 429 or 503, RetryAfter: { } wait } f =>
            new AskedToWait(now + wait, $"The receiver answered {f.StatusCode} with Retry-After {wait.TotalSeconds:0} s."),
        AttemptOutcome.Failed { Retryable: true } f => new Failed(f.Reason),
        _ => new Nothing(),
    };
}

/// <summary>May an attempt go to the endpoint now?</summary>
public abstract record BreakerVerdict
{
    private BreakerVerdict() { }

    public sealed record Pass(bool Probe) : BreakerVerdict;

    public sealed record Hold(DateTime Until, string Reason) : BreakerVerdict;
}

/// <summary>
/// One circuit breaker per endpoint (webhook). After <see cref="BreakerOptions.FailuresToOpen"/> retryable
/// failures in a row it opens: nothing is sent for a cool-down that doubles with each failed probe; then
/// one probe (half-open) closes it on an answer or reopens it. A 429/503 with Retry-After opens it until then.
/// <para>
/// State lives in memory, on purpose: it is consulted before every send, and it is this node's view of
/// its own attempts. After a restart it is rebuilt within <see cref="BreakerOptions.FailuresToOpen"/>
/// attempts, and a redrive the restart interrupted is not lost: its deliveries stay retrying or dead-lettered
/// in the database. A second node would keep its own breaker per endpoint (each sees its own failures).
/// </para>
/// </summary>
public sealed class CircuitBreaker(DeliveryNotifier notifier, IOptions<WebhookHubOptions> options, TimeProvider time)
{
    private sealed class Circuit
    {
        public CircuitState State;
        public int Failures;
        public int Opens;
        public DateTime? BrokeAt;
        public DateTime? OpenSince;
        public DateTime? NextProbeAt;
        public DateTime? ProbeStartedAt;
        public string? Reason;

        public CircuitView View(Guid id) => new(id, State, Failures, NextProbeAt, BrokeAt, OpenSince, Reason);
    }

    private readonly Dictionary<Guid, Circuit> _circuits = [];
    private readonly Lock _lock = new();

    /// <summary>
    /// Circuits other nodes have open (from the events bridge), for <see cref="View"/> only: a web node makes no
    /// attempts, and its pages and API would otherwise always say closed. Never used to hold this node's own sends.
    /// </summary>
    private readonly Dictionary<Guid, CircuitView> _elsewhere = [];

    /// <summary>Subscribes to other nodes' circuit changes (raised only on PostgreSQL, by the events bridge).</summary>
    public void FollowOtherNodes() => notifier.RemoteCircuitChanged += OnRemoteCircuitChanged;

    private void OnRemoteCircuitChanged(CircuitChanged change)
    {
        lock (_lock)
        {
            if (change.State == CircuitState.Closed) _elsewhere.Remove(change.WebhookId);
            else _elsewhere[change.WebhookId] = new CircuitView(change.WebhookId, change.State, change.ConsecutiveFailures, change.NextProbeAt, null, null, change.Reason);
        }
    }

    private BreakerOptions Options => options.Value.Delivery.Endpoints.Breaker;

    /// <summary>A probe that never reports (its job died) frees the half-open slot after this long.</summary>
    private TimeSpan ProbeTimeout => TimeSpan.FromSeconds(options.Value.Delivery.TimeoutSeconds + 5);

    /// <summary>Raised once when a circuit closes after being open, with the time it broke (the redrive starts there).</summary>
    public event Action<Guid, DateTime>? Recovered;

    public BreakerVerdict Admit(Guid webhookId)
    {
        CircuitView? changed = null;
        BreakerVerdict verdict;
        var now = Now;
        lock (_lock)
        {
            if (!_circuits.TryGetValue(webhookId, out var circuit) || circuit.State == CircuitState.Closed)
                return new BreakerVerdict.Pass(false);
            if (circuit.State == CircuitState.Open && now < circuit.NextProbeAt)
                verdict = new BreakerVerdict.Hold(circuit.NextProbeAt!.Value, circuit.Reason ?? "The circuit is open.");
            else if (circuit.State == CircuitState.HalfOpen && now < circuit.ProbeStartedAt + ProbeTimeout)
                verdict = new BreakerVerdict.Hold(circuit.ProbeStartedAt!.Value + ProbeTimeout, "A probe is in flight; the circuit is half-open.");
            else
            {
                circuit.State = CircuitState.HalfOpen;
                circuit.ProbeStartedAt = now;
                changed = circuit.View(webhookId);
                verdict = new BreakerVerdict.Pass(true);
            }
        }
        if (changed is not null) Publish(changed, now);
        return verdict;
    }

    /// <summary>Feeds an attempt's result. <paramref name="probe"/>: this attempt was the half-open probe.</summary>
    public void Record(Guid webhookId, EndpointSignal signal, bool probe)
    {
        if (signal is EndpointSignal.Nothing)
        {
            if (probe) ReleaseProbe(webhookId);
            return;
        }
        CircuitView? changed = null;
        DateTime? recoveredFrom = null;
        var now = Now;
        lock (_lock)
        {
            var exists = _circuits.TryGetValue(webhookId, out var circuit);
            if (signal is EndpointSignal.Answered)
            {
                if (!exists) return;
                if (circuit!.State != CircuitState.Closed)
                {
                    recoveredFrom = circuit.BrokeAt ?? now;
                    _circuits.Remove(webhookId);
                    changed = CircuitView.ClosedFor(webhookId);
                }
                else _circuits.Remove(webhookId);
            }
            else
            {
                if (!exists) _circuits[webhookId] = circuit = new Circuit();
                circuit!.BrokeAt ??= now;
                switch (signal)
                {
                    case EndpointSignal.AskedToWait wait:
                        var until = Min(wait.Until, now + TimeSpan.FromSeconds(options.Value.Delivery.MaxRetryAfterSeconds));
                        if (circuit.State != CircuitState.Open || until > circuit.NextProbeAt)
                        {
                            Open(circuit, until, wait.Reason, now);
                            changed = circuit.View(webhookId);
                        }
                        break;
                    case EndpointSignal.Failed failed:
                        circuit.Failures++;
                        var opens = circuit.State == CircuitState.Closed && circuit.Failures >= Math.Max(1, Options.FailuresToOpen);
                        var reopens = circuit.State == CircuitState.HalfOpen && probe;
                        if (opens || reopens)
                        {
                            circuit.Opens++;
                            var cooldown = Cooldown(circuit.Opens);
                            Open(circuit, now + cooldown,
                                $"{circuit.Failures} failures in a row (last: {failed.Reason}); cool-down {cooldown.TotalSeconds:0} s.", now);
                            changed = circuit.View(webhookId);
                        }
                        break;
                }
            }
        }
        if (changed is not null) Publish(changed, now);
        if (recoveredFrom is { } brokeAt) Recovered?.Invoke(webhookId, brokeAt);
    }

    /// <summary>The endpoint's circuit as shown: this node's own, else one another node reported open, else closed.</summary>
    public CircuitView View(Guid webhookId)
    {
        lock (_lock)
            return _circuits.TryGetValue(webhookId, out var circuit) ? circuit.View(webhookId)
                : _elsewhere.TryGetValue(webhookId, out var remote) ? remote : CircuitView.ClosedFor(webhookId);
    }

    /// <summary>Every circuit that is not closed.</summary>
    public IReadOnlyList<CircuitView> NotClosed()
    {
        lock (_lock)
            return _circuits.Where(c => c.Value.State != CircuitState.Closed).Select(c => c.Value.View(c.Key)).ToList();
    }

    /// <summary>Forgets the endpoint (switched on again, edited, deleted): it starts closed.</summary>
    public void Reset(Guid webhookId)
    {
        bool wasOpen;
        lock (_lock)
        {
            wasOpen = _circuits.Remove(webhookId, out var circuit) && circuit.State != CircuitState.Closed;
            _elsewhere.Remove(webhookId);
        }
        if (wasOpen) Publish(CircuitView.ClosedFor(webhookId), Now);
    }

    /// <summary>The cool-down after the <paramref name="opens"/>th opening in a row: first, doubled each time, capped.</summary>
    public TimeSpan Cooldown(int opens)
    {
        var seconds = Options.FirstCooldownSeconds * Math.Pow(2, Math.Clamp(opens - 1, 0, 30));
        return TimeSpan.FromSeconds(Math.Min(seconds, Math.Max(Options.FirstCooldownSeconds, Options.MaxCooldownSeconds)));
    }

    private void ReleaseProbe(Guid webhookId)
    {
        lock (_lock)
            if (_circuits.TryGetValue(webhookId, out var circuit) && circuit.State == CircuitState.HalfOpen)
            {
                circuit.State = CircuitState.Open;
                circuit.ProbeStartedAt = null;
            }
    }

    private static void Open(Circuit circuit, DateTime until, string reason, DateTime now)
    {
        circuit.State = CircuitState.Open;
        circuit.OpenSince ??= now;
        circuit.NextProbeAt = until;
        circuit.ProbeStartedAt = null;
        circuit.Reason = reason;
    }

    private void Publish(CircuitView view, DateTime now) =>
        notifier.Publish(new CircuitChanged(view.WebhookId, view.State, view.ConsecutiveFailures, view.NextProbeAt, view.Reason, now));

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private DateTime Now => time.GetUtcNow().UtcDateTime;
}
