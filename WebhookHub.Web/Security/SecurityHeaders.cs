using System.Security.Cryptography;

namespace WebhookHub.Web.Security;

/// <summary>
/// <c>X-Content-Type-Options</c> and <c>Referrer-Policy</c> on every response, and a Content Security Policy on
/// pages: scripts only from this origin (plus the import map Blazor writes inline, allowed by a per-request
/// nonce), no framing (<c>frame-ancestors 'none'</c>: no clickjacking of the Retry or Revoke buttons).
/// MudBlazor sets inline styles, so styles allow 'unsafe-inline'; a style cannot run script.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    private const string NonceKey = "csp-nonce";

    /// <summary>The nonce of this request's page, for the inline import map (App.razor).</summary>
    public static string? Nonce(HttpContext context) => context.Items[NonceKey] as string;

    public Task InvokeAsync(HttpContext context)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Items[NonceKey] = nonce;
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            // Policy change sources link to other sites; they need not learn our URLs.
            headers["Referrer-Policy"] = "no-referrer";
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                headers.ContentSecurityPolicy = OwnsItsScripts(context.Request.Path)
                    ? "default-src 'self'; " +
                      $"script-src 'self' 'nonce-{nonce}'; " +
                      "style-src 'self' 'unsafe-inline'; " +
                      "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
                      "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
                    : "frame-ancestors 'none'";
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <summary>Hangfire's dashboard and the Scalar reference bring their own inline scripts; they only get the framing rule.</summary>
    private static bool OwnsItsScripts(PathString path) =>
        !path.StartsWithSegments("/hangfire") && !path.StartsWithSegments("/scalar");
}
