using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Auth;

/// <summary>Identity's sign-in, with a disabled user refused at sign-in and on every cookie request.</summary>
public sealed class AppSignInManager(
    UserManager<AppUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<AppUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<AppUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<AppUser> confirmation)
    : SignInManager<AppUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(AppUser user) =>
        user.DisabledAt is null && await base.CanSignInAsync(user);

    /// <summary>Called by the security stamp validator on each cookie request (interval zero, see AuthSetup).</summary>
    public override async Task<bool> ValidateSecurityStampAsync(AppUser? user, string? securityStamp) =>
        user is { DisabledAt: null } && await base.ValidateSecurityStampAsync(user, securityStamp);
}

/// <summary>
/// The cookie of a user who must choose a new password carries <see cref="AuthSetup.MustChangePasswordClaim"/>
/// and no role: every role-based policy (the default one, /hangfire, /metrics, the admin API) fails until the
/// password is changed, and only the change-password page (<see cref="AuthSetup.SignedInPolicy"/>) opens.
/// </summary>
public sealed class AppClaimsPrincipalFactory(UserManager<AppUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (!user.MustChangePassword) return identity;
        foreach (var role in identity.FindAll(Options.ClaimsIdentity.RoleClaimType).ToList())
            identity.RemoveClaim(role);
        identity.AddClaim(new Claim(AuthSetup.MustChangePasswordClaim, "true"));
        return identity;
    }
}
