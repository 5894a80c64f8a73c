namespace WebhookHub.Core.Events;

/// <summary>
/// An <c>Idempotency-Key</c> a caller sent with a policy change, kept for <see cref="Lifetime"/>: a repeat
/// with the same key and body is answered with the change it first created, never a second one.
/// Keys belong to a caller (user), so two producers cannot collide or probe each other's keys.
/// </summary>
public sealed class IdempotencyKey
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    public const int MaxKeyLength = 255;

    public required string UserId { get; set; }
    public required string Key { get; set; }
    /// <summary>Lowercase hex SHA-256 of the request's fields: the same key with another body is a conflict.</summary>
    public required string RequestHash { get; set; }
    public Guid PolicyChangeId { get; set; }
    public DateTime CreatedAt { get; set; }
}
