namespace WebhookHub.Core.Events;

public sealed class PolicyChange
{
    public Guid Id { get; set; }
    public required string Route { get; set; }
    public required string Source { get; set; }
    public DateTime DetectedAt { get; set; }
    public required string Diff { get; set; }
    public string? Summary { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Set once the fan-out has created an event and its deliveries; null means fan-out is still owed.</summary>
    public DateTime? FannedOutAt { get; set; }
}
