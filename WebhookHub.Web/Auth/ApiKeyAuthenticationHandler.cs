using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>: the key's SHA-256 hash names an API key, which names its user and roles.
/// On <c>/hubs</c> only, the key may come as <c>?access_token=</c> instead, because browsers cannot set
/// headers on a WebSocket; everywhere else a query-string key is ignored, since URLs end up in logs and history.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService apiKeys,
    UserManager<AppUser> users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null)
            return AuthenticateResult.NoResult();

        var key = await apiKeys.FindActiveAsync(presented, Context.RequestAborted);
        if (key?.User is null)
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        // A disabled user's keys stop with the user; enabling the user again brings them back.
        if (key.User.DisabledAt is not null)
            return AuthenticateResult.Fail("The key's user is disabled.");

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, key.UserId),
            new(ClaimTypes.Name, key.User.UserName ?? key.UserId),
            new("api_key_id", key.Id.ToString()),
        };
        claims.AddRange((await users.GetRolesAsync(key.User)).Select(role => new Claim(ClaimTypes.Role, role)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    /// <summary>The key this request carries, or null when it carries none.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        if (request.Path.StartsWithSegments("/hubs") && request.Query["access_token"].ToString() is { Length: > 0 } token)
            return token;
        return null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
