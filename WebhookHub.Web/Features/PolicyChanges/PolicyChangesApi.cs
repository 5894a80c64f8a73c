using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.PolicyChanges;

public static class PolicyChangesApi
{
    public const int MaxDiffChars = PolicyChangeService.MaxDiffChars;

    public sealed record CreatePolicyChangeRequest(string? Route, string? Source, string? Diff, string? Summary, DateTime? DetectedAt);
    public sealed record Accepted(Guid Id);
    public sealed record PolicyChangeResponse(Guid Id, string Route, string Source, DateTime DetectedAt, string Diff, string? Summary,
        DateTime CreatedAt, DateTime? FannedOutAt);
    public sealed record PolicyChangeListItem(Guid Id, string Route, string Source, DateTime DetectedAt, string? Summary,
        DateTime CreatedAt, DateTime? FannedOutAt);

    public static IEndpointRouteBuilder MapPolicyChangesApi(this IEndpointRouteBuilder app)
    {
        // The only endpoints a Reporter (a change-detection pipeline's key) may call.
        var group = app.MapGroup("/api/policy-changes").WithTags("Policy changes")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        // Reporting a change is for admins (by hand) and reporters; it does not need an admin key.
        group.MapPost("/", CreatePolicyChange).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Reporter))
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);
        // Every signed-in user may read a change: customers follow diffUrl from their deliveries.
        var read = group.MapGroup("").RequireAuthorization(p => p.RequireRole(Roles.All));
        read.MapGet("/{id:guid}", GetPolicyChange);
        read.MapGet("/", ListPolicyChanges);
        return app;
    }

    /// <summary>
    /// Stores the change and hands it to the in-process fan-out: the caller never waits for a webhook.
    /// With an <c>Idempotency-Key</c> header, a producer that retries after a timeout gets the first answer
    /// (same id) for 24 h instead of a second change; the same key with another body is a 409.
    /// </summary>
    public static async Task<Results<Accepted<Accepted>, ValidationProblem, ProblemHttpResult>> CreatePolicyChange(
        CreatePolicyChangeRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ClaimsPrincipal user, PolicyChangeService changes, CancellationToken ct)
    {
        if (idempotencyKey is not null && (idempotencyKey.Trim().Length == 0 || idempotencyKey.Length > IdempotencyKey.MaxKeyLength))
            return FieldErrors.Single("Idempotency-Key", $"Idempotency-Key must be 1 to {IdempotencyKey.MaxKeyLength} characters.");
        var claim = idempotencyKey is null ? null : new IdempotencyClaim(user.Id(), idempotencyKey);
        return await changes.CreateAsync(new PolicyChangeInput(request.Route, request.Source, request.Diff, request.Summary, request.DetectedAt), ct, claim) switch
        {
            PolicyChangeOutcome.Accepted accepted =>
                TypedResults.Accepted($"/api/policy-changes/{accepted.Change.Id}", new Accepted(accepted.Change.Id)),
            PolicyChangeOutcome.Invalid invalid => invalid.Errors.Aggregate(new FieldErrors(), (e, kv) => e.Add(kv.Key, kv.Value)).ToProblem(),
            PolicyChangeOutcome.KeyReused => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was used in the last 24 hours with a different body; send a new key for a new change."),
            var other => throw new InvalidOperationException($"Unexpected outcome {other.GetType().Name}."),
        };
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
