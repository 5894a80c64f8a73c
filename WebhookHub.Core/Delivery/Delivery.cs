namespace WebhookHub.Core.Delivery;

/// <summary>One event to one webhook. Its attempts are <see cref="DeliveryAttempt"/> rows.</summary>
public sealed class Delivery
{
    public Guid Id { get; set; }
    public Guid WebhookId { get; set; }
    public required string EventId { get; set; }
    public required string EventType { get; set; }
    public Guid? PolicyChangeId { get; set; }
    public DeliveryStatus Status { get; set; } = DeliveryStatus.Pending;
    public int AttemptCount { get; set; }
    /// <summary>Attempts made before the current retry budget began (a manual retry starts a fresh budget).</summary>
    public int BudgetStartsAfterAttempt { get; set; }
    /// <summary>What started the current budget: <see cref="AttemptTrigger.Redrive"/> marks a recovered endpoint's redrive, whose attempts are recorded as such.</summary>
    public AttemptTrigger BudgetTrigger { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public string? HangfireJobId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public enum DeliveryStatus
{
    Pending,
    Retrying,
    Success,
    Failed,
    /// <summary>The webhook was deleted before the delivery finished.</summary>
    Cancelled,
}
