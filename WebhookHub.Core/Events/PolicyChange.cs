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

    /// <summary>On PostgreSQL, the node running this change's fan-out (see <c>FanoutClaims</c>); null when none is.</summary>
    public string? FanOutOwner { get; set; }

    /// <summary>
    /// The claim's lease (database time): renewed while its node runs the fan-out; once past, any worker may take the
    /// change. Also set with no owner to mark a fanned-out change as owed again (the owed sweep), and to back off a
    /// failed run.
    /// </summary>
    public DateTime? FanOutLeaseUntil { get; set; }
}
