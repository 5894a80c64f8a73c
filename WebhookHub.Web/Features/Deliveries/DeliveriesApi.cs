using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Deliveries;

/// <summary>A webhook's deliveries: the test button, the attempt history and its export.</summary>
public static class DeliveriesApi
{
    public sealed record TestResult(Guid DeliveryId, string EventId, string Status, int? StatusCode, long DurationMs, string? Error, string? ResponseBody);

    /// <summary>
    /// One page of attempts, newest first. <c>total</c> counts matching attempts up to 10,000; when more
    /// match it is 10000 and <c>totalIsLowerBound</c> is true (show "10,000+"). <c>nextCursor</c>, passed
    /// back as <c>cursor</c>, gives the next page at the same cost at any depth, without duplicates or gaps
    /// while new attempts arrive; null on the last page.
    /// </summary>
    public sealed record AttemptPage(IReadOnlyList<AttemptRow> Items, int Page, int PageSize, int Total, bool TotalIsLowerBound, string? NextCursor);

    public static IEndpointRouteBuilder MapDeliveriesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks/{id:guid}").WithTags("Deliveries")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/test", SendTest).ProducesProblem(StatusCodes.Status429TooManyRequests);
        group.MapGet("/deliveries", ListAttempts);
        group.MapGet("/deliveries/export", ExportAttempts);
        // Every webhook's attempts in one file: the /deliveries page's export, for the people who see them all.
        app.MapGet("/api/deliveries/export", ExportAllAttempts).WithTags("Deliveries")
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin, Roles.Operator))
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    /// <summary>
    /// Sends a <c>webhook.test</c> event and answers with its only attempt (up to the request timeout); not retried.
    /// Per webhook, a burst of 5 and then one every 5 s (<c>WebhookHub:Quotas</c>); past it, 429 with <c>Retry-After</c>.
    /// </summary>
    public static async Task<Results<Ok<TestResult>, NotFound, ProblemHttpResult>> SendTest(
        Guid id, ClaimsPrincipal user, TestSend tests, HttpContext http)
    {
        // Not the request's token: a caller who hangs up must not leave a delivery half-made.
        switch (await tests.SendAsync(user.AsWebhookCaller(), id, CancellationToken.None))
        {
            case TestSendResult.TooSoon(var wait):
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(title: "Too many test sends",
                    detail: $"This webhook was tested too often; try again in {seconds} s.", statusCode: StatusCodes.Status429TooManyRequests);
            case TestSendResult.Sent(var attempt):
                return TypedResults.Ok(new TestResult(attempt.DeliveryId, attempt.EventId, Lower(attempt.Status), attempt.StatusCode,
                    attempt.DurationMs, attempt.ErrorMessage, attempt.ResponseBody));
            default:
                return TypedResults.NotFound();
        }
    }

    /// <param name="cursor">The previous page's <c>nextCursor</c>; when given, <c>page</c> is ignored.</param>
    public static async Task<Results<Ok<AttemptPage>, NotFound, ValidationProblem>> ListAttempts(
        Guid id, ClaimsPrincipal user, WebhookHubDbContext db, DeliveryHistory history, CancellationToken ct,
        string? status = null, DateTime? from = null, DateTime? to = null, int page = 1, int pageSize = 50, string? cursor = null)
    {
        if (Paging.Validate(page, pageSize) is { } problem) return problem;
        var after = HistoryCursor.Parse(cursor);
        if (cursor is not null && after is null) return FieldErrors.Single("cursor", "cursor must be a nextCursor from a previous page.");
        var (filter, problem2) = Filter(status, from, to);
        if (problem2 is not null) return problem2;
        var visible = db.Webhooks.VisibleTo(user.AsWebhookCaller());
        if (!await visible.AnyAsync(w => w.Id == id, ct)) return TypedResults.NotFound();

        var result = await history.PageAsync(visible, id, filter, after, (page - 1) * pageSize, pageSize, ct);
        return TypedResults.Ok(new AttemptPage(result.Items.Select(AttemptRow.From).ToList(), after is null ? page : 0, pageSize,
            result.Total, result.TotalIsLowerBound, result.Next?.ToString()));
    }

    /// <summary>Streams the filtered attempts, newest first, as CSV (CsvHelper) or a JSON array; nothing is buffered whole.</summary>
    public static async Task<Results<EmptyHttpResult, NotFound, ValidationProblem>> ExportAttempts(
        Guid id, ClaimsPrincipal user, WebhookHubDbContext db, DeliveryHistory history, HttpContext http, CancellationToken ct,
        string? format = "csv", string? status = null, DateTime? from = null, DateTime? to = null)
    {
        var visible = db.Webhooks.VisibleTo(user.AsWebhookCaller());
        if (!await visible.AnyAsync(w => w.Id == id, ct)) return TypedResults.NotFound();
        return await ExportAsync(visible, id, $"webhook-{id}-deliveries", history, http, format, status, from, to, ct);
    }

    /// <summary>Every webhook's attempts (Admin, Operator), filtered like one webhook's, streamed the same way.</summary>
    public static async Task<Results<EmptyHttpResult, NotFound, ValidationProblem>> ExportAllAttempts(
        ClaimsPrincipal user, WebhookHubDbContext db, DeliveryHistory history, HttpContext http, CancellationToken ct,
        string? format = "csv", string? status = null, DateTime? from = null, DateTime? to = null) =>
        await ExportAsync(db.Webhooks.VisibleTo(user.AsWebhookCaller()), null, "deliveries", history, http, format, status, from, to, ct);

    private static async Task<Results<EmptyHttpResult, NotFound, ValidationProblem>> ExportAsync(
        IQueryable<Core.Webhooks.Webhook> visible, Guid? id, string name, DeliveryHistory history, HttpContext http,
        string? format, string? status, DateTime? from, DateTime? to, CancellationToken ct)
    {
        format = (format ?? "csv").ToLowerInvariant();
        if (format is not ("csv" or "json")) return FieldErrors.Single("format", "format must be csv or json.");
        var (filter, problem) = Filter(status, from, to);
        if (problem is not null) return problem;

        // One streaming query (EF reads row by row, no tracking): memory stays flat for any number of rows.
        var rows = history.Query(visible, id, filter).AsAsyncEnumerable().Select(AttemptRow.From);
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}.{format}\"";
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
