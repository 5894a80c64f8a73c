namespace WebhookHub.Core.Delivery;

/// <summary>One HTTP attempt of a delivery (table <c>webhook_deliveries</c>).</summary>
public sealed class DeliveryAttempt
{
    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public Guid WebhookId { get; set; }
    public required string EventId { get; set; }
    public Guid? PolicyChangeId { get; set; }
    public required string EventType { get; set; }
    public AttemptStatus Status { get; set; }
    public int? StatusCode { get; set; }
    /// <summary>The first 4 KB of the response body.</summary>
    public string? ResponseBody { get; set; }
    public int AttemptNumber { get; set; }
    public AttemptTrigger Trigger { get; set; }
    public DateTime? DeliveredAt { get; set; }
    public string? ErrorMessage { get; set; }
    public long DurationMs { get; set; }
    public DateTime CreatedAt { get; set; }
    public string? HangfireJobId { get; set; }
}

/// <summary>What an attempt left its delivery in: <c>retrying</c> means another attempt is scheduled.</summary>
public enum AttemptStatus
{
    Pending,
    Success,
    Failed,
    Retrying,
}

public enum AttemptTrigger
{
    Scheduled,
    Manual,
    /// <summary>Sent by the slow-start redrive after the endpoint's circuit closed.</summary>
    Redrive,
}
