using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using WebhookHub.Core.Identity;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.ApiKeys;

public static class ApiKeysApi
{
    public sealed record CreateApiKeyRequest(string? Name, string? UserId);
    /// <summary>The only response that carries the key itself.</summary>
    public sealed record CreatedApiKey(Guid Id, string Name, string Key, string UserId, DateTime CreatedAt);
    public sealed record ApiKeySummary(Guid Id, string Name, string Prefix, string UserId, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt);

    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/api-keys").WithTags("API keys")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/", CreateApiKey).ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("/", ListApiKeys);
        group.MapDelete("/{id:guid}", RevokeApiKey);
        return app;
    }

    public static async Task<Results<Created<CreatedApiKey>, ValidationProblem, ForbidHttpResult>> CreateApiKey(
        CreateApiKeyRequest request, ClaimsPrincipal user, ApiKeyService apiKeys, UserManager<AppUser> users)
    {
        var errors = new FieldErrors();
        errors.Require("name", request.Name, 200);
        if (errors.Any) return errors.ToProblem();

        var ownerId = user.Id();
        if (!string.IsNullOrEmpty(request.UserId) && request.UserId != ownerId)
        {
            if (!user.IsAdmin()) return TypedResults.Forbid();
            if (await users.FindByIdAsync(request.UserId) is null)
                return FieldErrors.Single("userId", "No user has this id.");
            ownerId = request.UserId;
        }

        var (key, secret) = await apiKeys.CreateAsync(ownerId, request.Name!.Trim());
        return TypedResults.Created($"/api/api-keys/{key.Id}", new CreatedApiKey(key.Id, key.Name, secret, key.UserId, key.CreatedAt));
    }

    /// <param name="userId">Admins only: another user's keys.</param>
    public static async Task<Results<Ok<List<ApiKeySummary>>, ForbidHttpResult>> ListApiKeys(ClaimsPrincipal user, ApiKeyService apiKeys, string? userId = null)
    {
        if (userId is not null && userId != user.Id() && !user.IsAdmin()) return TypedResults.Forbid();
        return TypedResults.Ok((await apiKeys.ListAsync(userId ?? user.Id()))
            .Select(k => new ApiKeySummary(k.Id, k.Name, k.Prefix, k.UserId, k.CreatedAt, k.LastUsedAt, k.RevokedAt)).ToList());
    }

    /// <summary>Your own key; admins revoke anyone's. Hub connections opened with the key are closed at once.</summary>
    public static async Task<Results<NoContent, NotFound>> RevokeApiKey(Guid id, ClaimsPrincipal user, ApiKeyService apiKeys) =>
        await apiKeys.RevokeAsync(user.IsAdmin() ? null : user.Id(), id) ? TypedResults.NoContent() : TypedResults.NotFound();
}
