using Microsoft.Extensions.Logging;
using WebhookHub.Core.Delivery.Endpoints;

namespace WebhookHub.Core.Delivery;

/// <summary>An attempt has been recorded (its row is saved).</summary>
public sealed record AttemptRecorded(
    Guid WebhookId, Guid DeliveryId, string EventType, int AttemptNumber, AttemptStatus Status, int? StatusCode,
    long DurationMs, string? Error, DateTime At);

/// <summary>A delivery has no attempts left (or got a final answer) and waits in the dead-letter queue.</summary>
public sealed record DeliveryDeadLettered(Guid WebhookId, Guid DeliveryId, string EventType, string? Reason, DateTime At);

/// <summary>A webhook was switched off or on, or deleted (then <paramref name="IsActive"/> is false and <paramref name="Deleted"/> true).</summary>
public sealed record WebhookStateChanged(Guid WebhookId, string OwnerId, bool IsActive, bool Deleted, string? Reason, DateTime At);

/// <summary>A retry job started its delivery's attempt <paramref name="Lag"/> after the attempt was due (zero when on time or early).</summary>
public sealed record RetryPickedUp(Guid WebhookId, Guid DeliveryId, TimeSpan Lag, DateTime At);

/// <summary>The owed sweep found a retry more than a minute overdue and not running, and requeued it.</summary>
public sealed record OverdueRetryRequeued(Guid WebhookId, Guid DeliveryId, TimeSpan Overdue, DateTime At);

/// <summary>
/// In-process feed of delivery events (the eShop "refresh on status change" pattern): the pipeline
/// publishes after it has saved, Blazor components and the SignalR relay subscribe. A subscriber that
/// throws is logged and never breaks a delivery.
/// </summary>
public sealed class DeliveryNotifier(ILogger<DeliveryNotifier> log)
{
    public event Action<AttemptRecorded>? AttemptRecorded;
    public event Action<DeliveryDeadLettered>? DeadLettered;
    public event Action<WebhookStateChanged>? WebhookChanged;
    public event Action<RetryPickedUp>? RetryPickedUp;
    public event Action<OverdueRetryRequeued>? OverdueRetryRequeued;
    public event Action<CircuitChanged>? CircuitChanged;
    public event Action<RedriveProgress>? RedriveProgressed;

    public void Publish(AttemptRecorded e) => Raise(AttemptRecorded, e);

    public void Publish(DeliveryDeadLettered e) => Raise(DeadLettered, e);

    public void Publish(WebhookStateChanged e) => Raise(WebhookChanged, e);

    public void Publish(RetryPickedUp e) => Raise(RetryPickedUp, e);

    public void Publish(OverdueRetryRequeued e) => Raise(OverdueRetryRequeued, e);

    public void Publish(CircuitChanged e) => Raise(CircuitChanged, e);

    public void Publish(RedriveProgress e) => Raise(RedriveProgressed, e);

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
