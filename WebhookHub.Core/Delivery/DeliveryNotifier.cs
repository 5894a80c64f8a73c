using Microsoft.Extensions.Logging;
using WebhookHub.Core.Delivery.Endpoints;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// What every node shows (dashboards, <c>/hubs/deliveries</c>, the dead-letter page), whichever node it happened on:
/// on PostgreSQL the events bridge sends these to the other nodes.
/// </summary>
public interface IDeliveryEvent
{
    Guid WebhookId { get; }
    DateTime At { get; }
}

/// <summary>An attempt has been recorded (its row is saved).</summary>
public sealed record AttemptRecorded(
    Guid WebhookId, Guid DeliveryId, string EventType, int AttemptNumber, AttemptStatus Status, int? StatusCode,
    long DurationMs, string? Error, DateTime At) : IDeliveryEvent;

/// <summary>A delivery has no attempts left (or got a final answer) and waits in the dead-letter queue.</summary>
public sealed record DeliveryDeadLettered(Guid WebhookId, Guid DeliveryId, string EventType, string? Reason, DateTime At) : IDeliveryEvent;

/// <summary>A webhook was switched off or on, or deleted (then <paramref name="IsActive"/> is false and <paramref name="Deleted"/> true).</summary>
public sealed record WebhookStateChanged(Guid WebhookId, string OwnerId, bool IsActive, bool Deleted, string? Reason, DateTime At) : IDeliveryEvent;

/// <summary>A retry job started its delivery's attempt <paramref name="Lag"/> after the attempt was due (zero when on time or early).</summary>
public sealed record RetryPickedUp(Guid WebhookId, Guid DeliveryId, TimeSpan Lag, DateTime At);

/// <summary>The owed sweep found a retry more than a minute overdue and not running, and requeued it.</summary>
public sealed record OverdueRetryRequeued(Guid WebhookId, Guid DeliveryId, TimeSpan Overdue, DateTime At);

/// <summary>
/// The feed of delivery events (the eShop "refresh on status change" pattern): the pipeline publishes after it
/// has saved, Blazor components and the SignalR relay subscribe. A subscriber that throws is logged and never
/// breaks a delivery. The shown events (<see cref="IDeliveryEvent"/>) are raised for this node's events and, on
/// PostgreSQL, for other nodes' ones that the events bridge brings (<see cref="PublishRemote"/>); what is counted
/// per node (<see cref="OwnAttemptRecorded"/>) and what the bridge sends (<see cref="PublishedHere"/>) only for this node's.
/// </summary>
public sealed class DeliveryNotifier(ILogger<DeliveryNotifier> log)
{
    /// <summary>An attempt recorded on any node.</summary>
    public event Action<AttemptRecorded>? AttemptRecorded;
    public event Action<DeliveryDeadLettered>? DeadLettered;
    public event Action<WebhookStateChanged>? WebhookChanged;
    public event Action<RetryPickedUp>? RetryPickedUp;
    public event Action<OverdueRetryRequeued>? OverdueRetryRequeued;
    public event Action<CircuitChanged>? CircuitChanged;
    public event Action<RedriveProgress>? RedriveProgressed;

    /// <summary>A circuit changed on another node (the events bridge): what a node that made no attempt to it shows.</summary>
    public event Action<CircuitChanged>? RemoteCircuitChanged;

    /// <summary>An attempt this node made: what its <c>/metrics</c> counts, so a sum over the nodes counts each attempt once.</summary>
    public event Action<AttemptRecorded>? OwnAttemptRecorded;

    /// <summary>This node's shown events, one call per publish (a recorded batch is one call): the events bridge sends them on.</summary>
    public event Action<IReadOnlyList<IDeliveryEvent>>? PublishedHere;

    /// <summary>
    /// Events may have been missed (the events bridge lost its connection and is back): whoever keeps a picture
    /// built from events reloads it from the database.
    /// </summary>
    public event Action? Resynced;

    public void Publish(AttemptRecorded e) => Publish([e]);

    public void Publish(DeliveryDeadLettered e) => Publish([e]);

    public void Publish(WebhookStateChanged e) => Publish([e]);

    public void Publish(CircuitChanged e) => Publish([e]);

    public void Publish(RedriveProgress e) => Publish([e]);

    /// <summary>Only this node's metrics hear of it: never sent to other nodes.</summary>
    public void Publish(RetryPickedUp e) => Raise(RetryPickedUp, e);

    /// <summary>Only this node's metrics hear of it: never sent to other nodes.</summary>
    public void Publish(OverdueRetryRequeued e) => Raise(OverdueRetryRequeued, e);

    /// <summary>This node's events, in order; a recorded batch in one call, so that the bridge sends it in one NOTIFY.</summary>
    public void Publish(IReadOnlyList<IDeliveryEvent> events)
    {
        if (events.Count == 0) return;
        Raise(PublishedHere, events);
        foreach (var e in events)
        {
            if (e is AttemptRecorded attempt) Raise(OwnAttemptRecorded, attempt);
            RaiseShown(e);
        }
    }

    /// <summary>Another node's events (the events bridge): shown like this node's, not counted in this node's metrics nor sent on.</summary>
    public void PublishRemote(IReadOnlyList<IDeliveryEvent> events)
    {
        foreach (var e in events)
        {
            if (e is CircuitChanged circuit) Raise(RemoteCircuitChanged, circuit);
            RaiseShown(e);
        }
    }

    public void PublishResync()
    {
        if (Resynced is null) return;
        foreach (var handler in Resynced.GetInvocationList().Cast<Action>())
        {
            try { handler(); }
            catch (Exception ex) { log.LogWarning(ex, "A delivery notification subscriber failed"); }
        }
    }

    private void RaiseShown(IDeliveryEvent e)
    {
        switch (e)
        {
            case AttemptRecorded a: Raise(AttemptRecorded, a); break;
            case DeliveryDeadLettered d: Raise(DeadLettered, d); break;
            case WebhookStateChanged w: Raise(WebhookChanged, w); break;
            case CircuitChanged c: Raise(CircuitChanged, c); break;
            case RedriveProgress r: Raise(RedriveProgressed, r); break;
            default: throw new ArgumentException($"Unknown delivery event {e.GetType().Name}.", nameof(e));
        }
    }

    private void Raise<T>(Action<T>? handlers, T e)
    {
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<T>>())
        {
            try { handler(e); }
            catch (Exception ex) { log.LogWarning(ex, "A delivery notification subscriber failed"); }
        }
    }
}
