using WebhookHub.Core.Events;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// What one attempt's outcome makes of its delivery (svix's "handle success | handle failure" as data): the
/// attempt row's status, number and trigger, and the delivery's next state. Decided by <see cref="Of"/>, a pure
/// function of the delivery as read before the attempt, so every case is a unit test; <see cref="AttemptRecorder"/>
/// applies it and writes it.
/// </summary>
public sealed record DeliveryTransition(
    int AttemptNumber, AttemptOutcome Outcome, AttemptStatus Status, AttemptTrigger Trigger, DateTime At, DateTime? NextAttemptAt)
{
    public string? Error => (Outcome as AttemptOutcome.Failed)?.Reason;

    public DeliveryStatus DeliveryStatus => Status switch
    {
        AttemptStatus.Success => DeliveryStatus.Success,
        AttemptStatus.Retrying => DeliveryStatus.Retrying,
        _ => DeliveryStatus.Failed,
    };

    /// <summary>The number the delivery's next attempt carries (in its headers and on its row).</summary>
    public static int NextAttemptNumber(Delivery delivery) => delivery.AttemptCount + 1;

    /// <summary>The next attempt's place in the current budget, from 1: what <see cref="RetryPolicy.NextDelay"/> counts.</summary>
    public static int AttemptInBudget(Delivery delivery) => NextAttemptNumber(delivery) - delivery.BudgetStartsAfterAttempt;

    /// <param name="delivery">As read before the attempt; not changed.</param>
    /// <param name="delay">The wait before another attempt (<see cref="RetryPolicy.NextDelay"/>), null when there is none:
    /// a final answer, no budget left, or a test send.</param>
    public static DeliveryTransition Of(Delivery delivery, AttemptOutcome outcome, TimeSpan? delay, DateTime now)
    {
        var status = outcome is AttemptOutcome.Succeeded ? AttemptStatus.Success
            : delay is not null ? AttemptStatus.Retrying : AttemptStatus.Failed;
        // Every attempt of a budget a person started (dead-letter retry) counts as manual.
        var trigger = delivery.BudgetTrigger == AttemptTrigger.Redrive ? AttemptTrigger.Redrive
            : delivery.BudgetStartsAfterAttempt > 0 ? AttemptTrigger.Manual : AttemptTrigger.Scheduled;
        return new DeliveryTransition(NextAttemptNumber(delivery), outcome, status, trigger, now,
            status == AttemptStatus.Retrying ? now + delay : null);
    }

    /// <summary>The attempt's <c>webhook_deliveries</c> row.</summary>
    public DeliveryAttempt ToAttempt(Delivery delivery, WebhookEvent evt, string? jobId) => new()
    {
        Id = Guid.CreateVersion7(),
        DeliveryId = delivery.Id,
        WebhookId = delivery.WebhookId,
        EventId = evt.Id,
        PolicyChangeId = evt.PolicyChangeId,
        EventType = evt.Type,
        Status = Status,
        StatusCode = Outcome.StatusCode,
        ResponseBody = Outcome.ResponseBody,
        AttemptNumber = AttemptNumber,
        Trigger = Trigger,
        DeliveredAt = Status == AttemptStatus.Success ? At : null,
        ErrorMessage = Error,
        DurationMs = Outcome.DurationMs,
        CreatedAt = At,
        HangfireJobId = jobId,
    };

    /// <summary>The delivery's columns this attempt moves (<see cref="AttemptRecorder.AttemptColumns"/>).</summary>
    public void ApplyTo(Delivery delivery)
    {
        delivery.AttemptCount = AttemptNumber;
        delivery.Status = DeliveryStatus;
        delivery.LastAttemptAt = At;
        delivery.LastStatusCode = Outcome.StatusCode;
        delivery.LastError = Error;
        delivery.NextAttemptAt = NextAttemptAt;
        delivery.UpdatedAt = At;
    }
}
