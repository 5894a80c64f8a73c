using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.DeadLetters;

public static class DeadLettersApi
{
    public const int MaxIdsPerRetry = 1000;

    public sealed record RetryRequest(Guid? WebhookId, List<Guid>? DeliveryIds);
    public sealed record RetryResponse(IReadOnlyList<Guid> Retried);

    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/dead-letters").WithTags("Dead letters")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapGet("/", ListDeadLetters);
        group.MapPost("/{deliveryId:guid}/retry", RetryOne);
        group.MapPost("/retry", RetryMany);
        return app;
    }

    public static async Task<Ok<List<DeadLetter>>> ListDeadLetters(
        ClaimsPrincipal user, WebhookHubDbContext db, DeadLetterService deadLetters, CancellationToken ct, Guid? webhookId = null) =>
        TypedResults.Ok(await deadLetters.ListAsync(db.Webhooks.VisibleTo(user.AsWebhookCaller()), webhookId, ct));

    /// <summary>202: the retry runs in the background with a fresh budget; 404 when not a dead letter the caller may see.</summary>
    public static async Task<Results<Accepted<RetryResponse>, NotFound>> RetryOne(
        Guid deliveryId, ClaimsPrincipal user, WebhookHubDbContext db, DeadLetterService deadLetters, CancellationToken ct)
    {
        var retried = await deadLetters.RetryAsync(db.Webhooks.VisibleTo(user.AsWebhookCaller()), [deliveryId], null, ct);
        return retried.Count == 0 ? TypedResults.NotFound() : TypedResults.Accepted((string?)null, new RetryResponse(retried));
    }

    /// <summary><c>{"webhookId": "…"}</c> retries all of a webhook's dead letters; <c>{"deliveryIds": […]}</c> the selected ones.</summary>
    public static async Task<Results<Accepted<RetryResponse>, NotFound, ValidationProblem>> RetryMany(
        RetryRequest request, ClaimsPrincipal user, WebhookHubDbContext db, DeadLetterService deadLetters, CancellationToken ct)
    {
        if ((request.WebhookId is null) == (request.DeliveryIds is null))
            return FieldErrors.Single("webhookId", "Give either webhookId or deliveryIds.");
        if (request.DeliveryIds is { Count: 0 or > MaxIdsPerRetry })
            return FieldErrors.Single("deliveryIds", $"deliveryIds must hold 1 to {MaxIdsPerRetry} ids.");
        var visible = db.Webhooks.VisibleTo(user.AsWebhookCaller());
        if (request.WebhookId is { } webhookId && !visible.Any(w => w.Id == webhookId)) return TypedResults.NotFound();
        var retried = await deadLetters.RetryAsync(visible, request.DeliveryIds, request.WebhookId, ct);
        return TypedResults.Accepted((string?)null, new RetryResponse(retried));
    }
}
