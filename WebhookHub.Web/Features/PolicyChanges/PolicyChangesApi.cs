using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.PolicyChanges;

public static class PolicyChangesApi
{
    public const int MaxDiffChars = 5 * 1024 * 1024;

    public sealed record CreatePolicyChangeRequest(string? Route, string? Source, string? Diff, string? Summary, DateTime? DetectedAt);
    public sealed record Accepted(Guid Id);
    public sealed record PolicyChangeResponse(Guid Id, string Route, string Source, DateTime DetectedAt, string Diff, string? Summary,
        DateTime CreatedAt, DateTime? FannedOutAt);
    public sealed record PolicyChangeListItem(Guid Id, string Route, string Source, DateTime DetectedAt, string? Summary,
        DateTime CreatedAt, DateTime? FannedOutAt);

    public static IEndpointRouteBuilder MapPolicyChangesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/policy-changes").WithTags("Policy changes")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        // Reporting a change is for admins (by hand) and the automation that holds an admin key.
        group.MapPost("/", CreatePolicyChange).RequireAuthorization(p => p.RequireRole(Roles.Admin))
            .ProducesProblem(StatusCodes.Status403Forbidden);
        // Every signed-in user may read a change: customers follow diffUrl from their deliveries.
        group.MapGet("/{id:guid}", GetPolicyChange);
        group.MapGet("/", ListPolicyChanges);
        return app;
    }

    /// <summary>Stores the change and hands it to the in-process fan-out: the caller never waits for a webhook.</summary>
    public static async Task<Results<Accepted<Accepted>, ValidationProblem>> CreatePolicyChange(
        CreatePolicyChangeRequest request, WebhookHubDbContext db, SqliteWriteGate writes, FanoutDispatcher dispatcher, TimeProvider time, CancellationToken ct)
    {
        var errors = new FieldErrors();
        errors.Require("route", request.Route, 200);
        errors.Require("source", request.Source, 2048);
        errors.Require("diff", request.Diff, MaxDiffChars);
        if (request.Summary is { Length: > 10_000 }) errors.Add("summary", "summary must be at most 10000 characters.");
        var now = time.GetUtcNow().UtcDateTime;
        var detectedAt = request.DetectedAt?.ToUniversalTime() ?? now;
        if (detectedAt > now.AddMinutes(5)) errors.Add("detectedAt", "detectedAt must not be in the future.");
        if (errors.Any) return errors.ToProblem();

        var change = new PolicyChange
        {
            Id = Guid.CreateVersion7(), Route = request.Route!.Trim(), Source = request.Source!.Trim(), Diff = request.Diff!,
            Summary = request.Summary, DetectedAt = detectedAt, CreatedAt = now,
        };
        db.PolicyChanges.Add(change);
        await writes.SaveChangesAsync(db, ct);
        // Stored first: if the process dies before the fan-out, FannedOutAt stays null and the owed-job sweep finds it.
        dispatcher.Dispatch(change.Id);
        return TypedResults.Accepted($"/api/policy-changes/{change.Id}", new Accepted(change.Id));
    }

    public static async Task<Results<Ok<PolicyChangeResponse>, NotFound>> GetPolicyChange(Guid id, WebhookHubDbContext db, CancellationToken ct)
    {
        var change = await db.PolicyChanges.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        return change is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new PolicyChangeResponse(change.Id, change.Route, change.Source, change.DetectedAt, change.Diff,
                change.Summary, change.CreatedAt, change.FannedOutAt));
    }

    /// <summary>Newest first, without the diffs (they can be large); <c>GET /{id}</c> has the diff.</summary>
    public static async Task<Results<Ok<PagedList<PolicyChangeListItem>>, ValidationProblem>> ListPolicyChanges(
        WebhookHubDbContext db, CancellationToken ct, int page = 1, int pageSize = 50)
    {
        if (Paging.Validate(page, pageSize) is { } problem) return problem;
        var total = await db.PolicyChanges.CountAsync(ct);
        var items = await db.PolicyChanges.AsNoTracking().OrderByDescending(p => p.CreatedAt)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(p => new PolicyChangeListItem(p.Id, p.Route, p.Source, p.DetectedAt, p.Summary, p.CreatedAt, p.FannedOutAt))
            .ToListAsync(ct);
        return TypedResults.Ok(new PagedList<PolicyChangeListItem>(items, page, pageSize, total));
    }
}
