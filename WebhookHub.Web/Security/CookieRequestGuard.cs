using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace WebhookHub.Web.Security;

/// <summary>
/// Browsers attach the sign-in cookie to requests that other sites make them send; API keys are never
/// sent that way. So for cookie-authenticated requests only:
/// <list type="bullet">
/// <item>a state-changing call under /api (POST, PUT, PATCH, DELETE) must carry <see cref="HeaderName"/>,
/// which an HTML form cannot send and a cross-site script cannot send without a CORS preflight that
/// this app never grants;</item>
/// <item>a connection to /hubs (or Blazor's own /_blazor) whose <c>Origin</c> is not this app's own is
/// refused (WebSockets are not covered by CORS, so a hostile page could otherwise listen with the user's cookie).</item>
/// </list>
/// </summary>
public sealed class CookieRequestGuard(RequestDelegate next)
{
    public const string HeaderName = "X-Requested-With";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.User.Identity is { IsAuthenticated: true, AuthenticationType: var scheme } && scheme == IdentityConstants.ApplicationScheme)
        {
            var request = context.Request;
            if (request.Path.StartsWithSegments("/api") && ChangesState(request.Method) && !request.Headers.ContainsKey(HeaderName))
            {
                await RefuseAsync(context, $"Cookie-authenticated API calls that change state need the {HeaderName} header (any value); API keys do not.");
                return;
            }
            if ((request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/_blazor"))
                && request.Headers.Origin.ToString() is { Length: > 0 } origin
                && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
            {
                await RefuseAsync(context, "This hub accepts cookie-authenticated connections from this app's own pages only.");
                return;
            }
        }
        await next(context);
    }

    private static bool ChangesState(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    private static ValueTask RefuseAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Cross-site request refused", Detail = detail },
        });
    }
}
