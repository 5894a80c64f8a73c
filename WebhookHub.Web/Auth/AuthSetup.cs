using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Auth;

public static class AuthSetup
{
    private const string Smart = "CookieOrApiKey";

    /// <summary>On the cookie of a user whose password was printed at first start: only the change-password page opens.</summary>
    public const string MustChangePasswordClaim = "must_change_password";

    /// <summary>A person signed in, even with a password still to change: the change-password page.</summary>
    public const string SignedInPolicy = "SignedIn";

    public const string ChangePasswordPath = "/account/change-password";

    /// <summary>
    /// Identity users and roles with a sign-in cookie for the UI, and API keys for scripts. A request
    /// with <c>Authorization: Bearer</c> (or, on /hubs, <c>?access_token=</c>) is judged by its key; any
    /// other by its cookie. Everything needs sign-in unless it says otherwise.
    /// </summary>
    public static IServiceCollection AddAuthSetup(this IServiceCollection services, IHostEnvironment environment)
    {
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = Smart;
                options.DefaultChallengeScheme = Smart;
            })
            .AddPolicyScheme(Smart, "Cookie or API key", options =>
                options.ForwardDefaultSelector = context =>
                    ApiKeyAuthenticationHandler.PresentedKey(context.Request) is not null
                        ? ApiKeyAuthenticationHandler.SchemeName
                        : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/account/login";
            cookie.AccessDeniedPath = "/account/access-denied";
            cookie.ExpireTimeSpan = TimeSpan.FromDays(7);
            cookie.SlidingExpiration = true;
            // Behind a TLS-terminating proxy the app sees http; the cookie must still never travel in clear.
            cookie.Cookie.SecurePolicy = environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            // Scripts and the dashboard get status codes, not a redirect to a page they cannot use.
            cookie.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
        });

        services.AddIdentityCore<AppUser>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Password.RequiredLength = 8;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<WebhookHubDbContext>()
            .AddSignInManager<AppSignInManager>()
            .AddClaimsPrincipalFactory<AppClaimsPrincipalFactory>()
            .AddDefaultTokenProviders();
        // Every cookie request checks the user's security stamp (one indexed read): a disabled user or a
        // changed password ends the session at the next request, not 30 minutes later.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);

        // Everything needs a person's role (a Reporter key opens only the policy-change endpoints, which say
        // so) and a chosen password (a cookie with a password to change has no roles at all, see
        // AppClaimsPrincipalFactory); what needs less says so (AllowAnonymous, SignedInPolicy).
        var people = new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .RequireRole(Roles.People)
            .RequireAssertion(context => !context.User.HasClaim(c => c.Type == MustChangePasswordClaim))
            .Build();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(people)
            .SetFallbackPolicy(people)
            .AddPolicy(SignedInPolicy, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                context.User.HasClaim(c => c.Type == MustChangePasswordClaim) || Roles.People.Any(context.User.IsInRole)));
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingAuthStateProvider>();
        services.AddScoped<CircuitHandler, RevalidateOnCircuitOpen>();
        return services;
    }

    private static Task RedirectOrStatus(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        var path = context.Request.Path;
        var isPage = !path.StartsWithSegments("/api") && !path.StartsWithSegments("/hubs") && !path.StartsWithSegments("/metrics")
            && !(status == StatusCodes.Status403Forbidden && path.StartsWithSegments("/hangfire"));
        var mustChangePassword = context.HttpContext.User.HasClaim(c => c.Type == MustChangePasswordClaim);
        if (isPage && status == StatusCodes.Status403Forbidden && mustChangePassword)
            context.Response.Redirect(ChangePasswordPath);
        else if (isPage)
            context.Response.Redirect(context.RedirectUri);
        else
            context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
