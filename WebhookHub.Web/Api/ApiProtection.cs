using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace WebhookHub.Web.Api;

/// <summary><c>WebhookHub:Api</c>: limits that keep one client from hurting the others.</summary>
public sealed class ApiLimits
{
    /// <summary>Largest request body; larger ones get 413 before anything is read.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Sustained requests per second per user, whichever of its API keys or its sign-in it uses (per address when anonymous).</summary>
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a client may send at once above the sustained rate.</summary>
    public int Burst { get; set; } = 400;
}

public static class ApiProtection
{
    /// <summary>Strict JSON (unknown fields are refused, not ignored), a body size cap and a rate limit per key.</summary>
    public static IServiceCollection AddApiProtection(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection("WebhookHub:Api").Get<ApiLimits>() ?? new ApiLimits();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
            // A misspelt field ("event" for "events") must be a 400 naming it, not silently dropped.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes);

        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/api")
                    ? RateLimitPartition.GetTokenBucketLimiter(ClientKey(context), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.Burst,
                        TokensPerPeriod = limits.RequestsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("unlimited"));
            options.OnRejected = async (rejected, ct) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This account sent more than {limits.RequestsPerSecond} requests a second (all its API keys together); retry after {retryAfter} s.",
                    },
                });
            };
        });
        return services;
    }

    /// <summary>
    /// Keyed on the user, not the key: keys are free to create, and fifty keys must not buy fifty times
    /// the limit. An API key's principal names its owner (ApiKeyAuthenticationHandler).
    /// </summary>
    public static string ClientKey(HttpContext context) =>
        context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId ? "user:" + userId
        : "ip:" + context.Connection.RemoteIpAddress;
}
