namespace WebhookHub.Core.Events;

/// <summary>The message: the exact JSON body, stored once so that every attempt sends the same bytes.</summary>
public sealed class WebhookEvent
{
    /// <summary>Sent as <c>id</c> in the body and as <c>webhook-id</c>; receivers deduplicate on it.</summary>
    public required string Id { get; set; }
    public required string Type { get; set; }
    public required string Payload { get; set; }
    public Guid? PolicyChangeId { get; set; }
    public DateTime CreatedAt { get; set; }
}
