using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Auth;

public static class AuthSetup
{
    private const string Smart = "CookieOrApiKey";

    /// <summary>
    /// Identity users and roles with a sign-in cookie for the UI, and API keys for scripts. A request
    /// with <c>Authorization: Bearer</c> (or, on /hubs, <c>?access_token=</c>) is judged by its key; any
    /// other by its cookie. Everything needs sign-in unless it says otherwise.
    /// </summary>
    public static IServiceCollection AddAuthSetup(this IServiceCollection services)
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
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();
        return services;
    }

    private static Task RedirectOrStatus(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        var path = context.Request.Path;
        var isPage = !path.StartsWithSegments("/api") && !path.StartsWithSegments("/hubs") && !path.StartsWithSegments("/metrics")
            && !(status == StatusCodes.Status403Forbidden && path.StartsWithSegments("/hangfire"));
        if (isPage)
            context.Response.Redirect(context.RedirectUri);
        else
            context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
