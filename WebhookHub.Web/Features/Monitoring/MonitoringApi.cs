using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Monitoring;

public static class MonitoringApi
{
    public sealed record Summary(string Window, DateTime Since, IReadOnlyList<WebhookHealth> Webhooks);

    public static IEndpointRouteBuilder MapMonitoringApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/monitoring").WithTags("Monitoring")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .MapGet("/summary", GetSummary);
        return app;
    }

    /// <summary>
    /// Per webhook over the window (15m and 1h in whole minutes, 24h and 7d in whole hours, 30d in whole UTC days), from the
    /// rollups: counts, success rate,
    /// average and p50/p95 latency. The percentiles come from a log-scale histogram (bounds 2^(k/4) ms): each is its
    /// bucket's upper bound, never below the exact value and at most 19% (plus rounding to a whole ms) above it.
    /// <c>lastFailure.at</c> is the start of the period (minute, hour or day) of the latest failure (its status code, error and delivery are null here:
    /// the rollups count, the history tells; <c>GET /api/webhooks/{id}/deliveries?status=failed</c>).
    /// </summary>
    public static async Task<Results<Ok<Summary>, ValidationProblem>> GetSummary(
        ClaimsPrincipal user, WebhookHubDbContext db, DeliveryStats stats, TimeProvider time, CancellationToken ct, string window = "1h")
    {
        if (!DeliveryStats.Windows.TryGetValue(window, out var span))
            return FieldErrors.Single("window", $"window must be one of {string.Join(", ", DeliveryStats.Windows.Keys)}.");
        var webhooks = await stats.SummarizeAsync(db.Webhooks.VisibleTo(user.AsWebhookCaller()), span, ct);
        return TypedResults.Ok(new Summary(window, DeliveryStats.Since(time.GetUtcNow().UtcDateTime, span), webhooks));
    }
}
