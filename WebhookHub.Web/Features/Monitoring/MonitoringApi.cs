using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
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

    public static async Task<Results<Ok<Summary>, ValidationProblem>> GetSummary(
        ClaimsPrincipal user, WebhookHubDbContext db, DeliveryStats stats, TimeProvider time, CancellationToken ct, string window = "1h")
    {
        if (!DeliveryStats.Windows.TryGetValue(window, out var span))
            return FieldErrors.Single("window", $"window must be one of {string.Join(", ", DeliveryStats.Windows.Keys)}.");
        var webhooks = await stats.SummarizeAsync(db.Webhooks.VisibleTo(user), span, ct);
        return TypedResults.Ok(new Summary(window, time.GetUtcNow().UtcDateTime - span, webhooks));
    }
}
