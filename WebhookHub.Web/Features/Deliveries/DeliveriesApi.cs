using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Persistence;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Deliveries;

/// <summary>A webhook's deliveries: the test button, the attempt history and its export.</summary>
public static class DeliveriesApi
{
    public sealed record TestResult(Guid DeliveryId, string EventId, string Status, int? StatusCode, long DurationMs, string? Error, string? ResponseBody);

    public static IEndpointRouteBuilder MapDeliveriesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks/{id:guid}").WithTags("Deliveries")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/test", SendTest).ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapGet("/deliveries", ListAttempts);
        group.MapGet("/deliveries/export", ExportAttempts);
        return app;
    }

    /// <summary>
    /// Sends a <c>webhook.test</c> event and answers with its only attempt (up to the request timeout); not retried.
    /// Per webhook, a burst of 5 and then one every 5 s (<c>WebhookHub:Quotas</c>); past it, 429 with <c>Retry-After</c>.
    /// </summary>
    public static async Task<Results<Ok<TestResult>, NotFound, ProblemHttpResult>> SendTest(
        Guid id, ClaimsPrincipal user, WebhookHubDbContext db, DeliveryJob deliveries, TestSendQuota quota, HttpContext http)
    {
        var webhook = await db.Webhooks.VisibleTo(user).FirstOrDefaultAsync(w => w.Id == id && w.DeletedAt == null);
        if (webhook is null) return TypedResults.NotFound();
        if (quota.TryTake(webhook.Id) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(title: "Too many test sends",
                detail: $"This webhook was tested too often; try again in {seconds} s.", statusCode: StatusCodes.Status429TooManyRequests);
        }
        // Not the request's token: a caller who hangs up must not leave a delivery half-made.
        var attempt = await deliveries.SendTestAsync(webhook, CancellationToken.None);
        return TypedResults.Ok(new TestResult(attempt.DeliveryId, attempt.EventId, Lower(attempt.Status), attempt.StatusCode,
            attempt.DurationMs, attempt.ErrorMessage, attempt.ResponseBody));
    }

    public static async Task<Results<Ok<PagedList<AttemptRow>>, NotFound, ValidationProblem>> ListAttempts(
        Guid id, ClaimsPrincipal user, WebhookHubDbContext db, DeliveryHistory history, CancellationToken ct,
        string? status = null, DateTime? from = null, DateTime? to = null, int page = 1, int pageSize = 50)
    {
        if (Paging.Validate(page, pageSize) is { } problem) return problem;
        var (filter, problem2) = Filter(status, from, to);
        if (problem2 is not null) return problem2;
        var visible = db.Webhooks.VisibleTo(user);
        if (!await visible.AnyAsync(w => w.Id == id, ct)) return TypedResults.NotFound();

        var (rows, total) = await history.PageAsync(visible, id, filter, (page - 1) * pageSize, pageSize, ct);
        return TypedResults.Ok(new PagedList<AttemptRow>(rows.Select(AttemptRow.From).ToList(), page, pageSize, total));
    }

    /// <summary>Streams the filtered attempts, newest first, as CSV (CsvHelper) or a JSON array; nothing is buffered whole.</summary>
    public static async Task<Results<EmptyHttpResult, NotFound, ValidationProblem>> ExportAttempts(
        Guid id, ClaimsPrincipal user, WebhookHubDbContext db, DeliveryHistory history, HttpContext http, CancellationToken ct,
        string? format = "csv", string? status = null, DateTime? from = null, DateTime? to = null)
    {
        format = (format ?? "csv").ToLowerInvariant();
        if (format is not ("csv" or "json")) return FieldErrors.Single("format", "format must be csv or json.");
        var (filter, problem) = Filter(status, from, to);
        if (problem is not null) return problem;
        var visible = db.Webhooks.VisibleTo(user);
        if (!await visible.AnyAsync(w => w.Id == id, ct)) return TypedResults.NotFound();

        var rows = history.Query(visible, id, filter).AsAsyncEnumerable().Select(AttemptRow.From);
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"webhook-{id}-deliveries.{format}\"";
        if (format == "json")
        {
            http.Response.ContentType = "application/json";
            await System.Text.Json.JsonSerializer.SerializeAsync(http.Response.Body, rows,
                new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web), ct);
            return TypedResults.Empty;
        }

        http.Response.ContentType = "text/csv; charset=utf-8";
        await AttemptRow.WriteCsvAsync(http.Response.Body, rows, ct);
        return TypedResults.Empty;
    }

    /// <summary>The filter as Core reads it, or the 400 naming what is wrong.</summary>
    private static (AttemptFilter Filter, ValidationProblem? Problem) Filter(string? status, DateTime? from, DateTime? to)
    {
        var (filter, errors) = AttemptFilter.Parse(status, from, to);
        return (filter, errors.Count == 0 ? null : errors.Aggregate(new FieldErrors(), (e, kv) => e.Add(kv.Key, kv.Value)).ToProblem());
    }

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
