namespace WebhookHub.Core.Identity;

/// <summary>
/// Tells whoever holds a live identity (Blazor circuits, hub connections) that it may no longer be
/// valid: a key was revoked, a user disabled or given other roles. Raised after the change is saved.
/// </summary>
public sealed class AccessNotifier
{
    public event Action<Guid>? ApiKeyRevoked;

    public event Action<string>? UserChanged;

    public void OnApiKeyRevoked(Guid keyId) => ApiKeyRevoked?.Invoke(keyId);

    public void OnUserChanged(string userId) => UserChanged?.Invoke(userId);
}
