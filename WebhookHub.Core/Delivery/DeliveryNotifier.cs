using Microsoft.Extensions.Logging;

namespace WebhookHub.Core.Delivery;

/// <summary>An attempt has been recorded (its row is saved).</summary>
public sealed record AttemptRecorded(
    Guid WebhookId, Guid DeliveryId, string EventType, int AttemptNumber, AttemptStatus Status, int? StatusCode,
    long DurationMs, string? Error, DateTime At);

/// <summary>A delivery has no attempts left (or got a final answer) and waits in the dead-letter queue.</summary>
public sealed record DeliveryDeadLettered(Guid WebhookId, Guid DeliveryId, string EventType, string? Reason, DateTime At);

/// <summary>
/// In-process feed of delivery events (the eShop "refresh on status change" pattern): the pipeline
/// publishes after it has saved, Blazor components and the SignalR relay subscribe. A subscriber that
/// throws is logged and never breaks a delivery.
/// </summary>
public sealed class DeliveryNotifier(ILogger<DeliveryNotifier> log)
{
    public event Action<AttemptRecorded>? AttemptRecorded;
    public event Action<DeliveryDeadLettered>? DeadLettered;

    public void Publish(AttemptRecorded e) => Raise(AttemptRecorded, e);

    public void Publish(DeliveryDeadLettered e) => Raise(DeadLettered, e);

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
