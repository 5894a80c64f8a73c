using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Auth;

/// <summary>
/// A Blazor circuit keeps the identity it started with; this checks it again every
/// <see cref="Interval"/> and at once when <see cref="AccessNotifier.UserChanged"/> names its user. A user
/// who was deleted, disabled, signed out everywhere (new security stamp) or given other roles becomes
/// anonymous, and the router sends the page to the sign-in page.
/// </summary>
public sealed partial class RevalidatingAuthStateProvider : ServerAuthenticationStateProvider, IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly IServiceScopeFactory _scopes;
    private readonly AccessNotifier _access;
    private readonly IdentityOptions _identity;
    private readonly ILogger<RevalidatingAuthStateProvider> _log;
    private readonly CancellationTokenSource _stop = new();
    private int _revoked;

    public RevalidatingAuthStateProvider(IServiceScopeFactory scopes, AccessNotifier access, IOptions<IdentityOptions> identity,
        TimeProvider time, ILogger<RevalidatingAuthStateProvider> log)
    {
        _scopes = scopes;
        _access = access;
        _identity = identity.Value;
        _log = log;
        _access.UserChanged += OnUserChanged;
        _ = LoopAsync(time, _stop.Token);
    }

    private async Task LoopAsync(TimeProvider time, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                await RevalidateAsync();
        }
        catch (OperationCanceledException) { }
    }

    private void OnUserChanged(string userId) => _ = RevalidateAsync(userId);

    /// <summary>Checks the identity now; a change that is not found ends it, an error waits for the next tick.</summary>
    internal async Task RevalidateAsync(string? onlyUserId = null)
    {
        try
        {
            var user = (await GetAuthenticationStateAsync()).User;
            if (user.Identity?.IsAuthenticated != true || Volatile.Read(ref _revoked) == 1) return;
            if (onlyUserId is not null && user.FindFirstValue(ClaimTypes.NameIdentifier) != onlyUserId) return;
            if (await IsStillValidAsync(user)) return;
            if (Interlocked.Exchange(ref _revoked, 1) == 1) return;
            LogCircuitSignedOut(user.Identity.Name);
            SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
        catch (InvalidOperationException)
        {
            // No state yet: the circuit has not started. RevalidateOnCircuitOpen looks once it has, so a
            // notification dropped here does not wait for the next tick.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRevalidationFailed(e);
        }
    }

    private async Task<bool> IsStillValidAsync(ClaimsPrincipal principal)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.GetUserAsync(principal);
        if (user is null || user.DisabledAt is not null) return false;
        if (principal.FindFirstValue(_identity.ClaimsIdentity.SecurityStampClaimType) is { } stamp
            && stamp != await users.GetSecurityStampAsync(user))
            return false;
        var roles = await users.GetRolesAsync(user);
        var claimed = principal.FindAll(_identity.ClaimsIdentity.RoleClaimType).Select(c => c.Value);
        return roles.Order(StringComparer.Ordinal).SequenceEqual(claimed.Order(StringComparer.Ordinal));
    }

    public void Dispose()
    {
        _access.UserChanged -= OnUserChanged;
        _stop.Cancel();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ended the circuit identity of {User}: disabled, removed or changed")]
    private partial void LogCircuitSignedOut(string? user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not revalidate a circuit's user")]
    private partial void LogRevalidationFailed(Exception e);
}

/// <summary>
/// Revalidates a circuit's identity as soon as the circuit has it. The identity comes from the cookie checked when
/// the circuit's connection opened; a user disabled after that check but before the circuit's provider existed or had
/// its state (the notification found no one to tell, or a provider with no state yet, which drops it) would
/// otherwise keep the circuit until the next tick, 30 s later.
/// </summary>
public sealed class RevalidateOnCircuitOpen(AuthenticationStateProvider provider) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        // Not awaited: the first render need not wait for a database read; the check handles its own errors.
        if (provider is RevalidatingAuthStateProvider revalidating) _ = revalidating.RevalidateAsync();
        return Task.CompletedTask;
    }
}
