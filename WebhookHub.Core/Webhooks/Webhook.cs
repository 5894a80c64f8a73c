namespace WebhookHub.Core.Webhooks;

public sealed class Webhook
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    /// <summary>The signing secret, encrypted with Data Protection (see <see cref="WebhookSecretProtector"/>).</summary>
    public required string Secret { get; set; }
    /// <summary>The secret before the last rotation, encrypted; signs beside the new one until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }
    public bool IsActive { get; set; } = true;
    public List<string> Events { get; set; } = [];
    /// <summary>Routes this webhook follows; empty means every route.</summary>
    public List<string> Routes { get; set; } = [];
    public string? DisabledReason { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Set when deleted: the webhook stops receiving, its history stays readable by admins.</summary>
    public DateTime? DeletedAt { get; set; }
    /// <summary>Optional cap on attempts a second to this endpoint, first attempts and retries alike; null means no cap.</summary>
    public int? MaxPerSecond { get; set; }
    /// <summary>When its circuit closes again, redeliver its dead letters since it broke, starting slowly (on by default).</summary>
    public bool RedriveOnRecovery { get; set; } = true;

    public bool Wants(string eventType, string? route) =>
        IsActive && DeletedAt is null
        && Events.Contains(eventType)
        && (route is null || Routes.Count == 0 || Routes.Contains(route, StringComparer.OrdinalIgnoreCase));
}
