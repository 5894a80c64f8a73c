using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Realtime;

/// <summary>
/// The open <see cref="DeliveriesHub"/> connections with the user and API key that opened them. A
/// connection's groups are fixed when it connects, so a revoked key, a disabled user or a change of
/// roles aborts the connections concerned; a client still allowed reconnects and joins the right group.
/// </summary>
public sealed class HubConnections : IDisposable
{
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, string UserId, string? KeyId)> _open = new();
    private readonly AccessNotifier _access;

    public HubConnections(AccessNotifier access)
    {
        _access = access;
        _access.ApiKeyRevoked += OnKeyRevoked;
        _access.UserChanged += OnUserChanged;
    }

    public void Add(HubCallerContext context, ClaimsPrincipal user) =>
        _open[context.ConnectionId] = (context, user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "", user.FindFirstValue("api_key_id"));

    public void Remove(string connectionId) => _open.TryRemove(connectionId, out _);

    private void OnKeyRevoked(Guid keyId) => AbortWhere(c => c.KeyId == keyId.ToString());

    private void OnUserChanged(string userId) => AbortWhere(c => c.UserId == userId);

    private void AbortWhere(Func<(HubCallerContext Context, string UserId, string? KeyId), bool> match)
    {
        foreach (var (id, connection) in _open)
            if (match(connection) && _open.TryRemove(id, out _))
                connection.Context.Abort();
    }

    public void Dispose()
    {
        _access.ApiKeyRevoked -= OnKeyRevoked;
        _access.UserChanged -= OnUserChanged;
    }
}
