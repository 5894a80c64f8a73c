namespace WebhookHub.Core.Identity;

/// <summary>An API key; only its SHA-256 hash is stored, the key itself is shown once.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>Lowercase hex SHA-256 of the whole key string.</summary>
    public required string KeyHash { get; set; }
    /// <summary>The first characters of the key, enough to recognise it in a list.</summary>
    public required string Prefix { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }

    public AppUser? User { get; set; }
}
