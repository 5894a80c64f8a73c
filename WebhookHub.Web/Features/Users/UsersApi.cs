using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using WebhookHub.Core.Identity;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Features.Users;

public static class UsersApi
{
    public sealed record CreateUserRequest(string? Email, string? Password, string? Role);
    public sealed record UserResponse(string Id, string Email, string Role, DateTime CreatedAt);

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users").WithTags("Users")
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapPost("/", CreateUser);
        group.MapGet("/", ListUsers);
        // Disabling ends the user's sign-ins, API keys, circuits and hub connections at once.
        group.MapPost("/{id}/disable", (string id, UserAdministration admin, ClaimsPrincipal user, CancellationToken ct) =>
            SetDisabled(id, true, admin, user, ct));
        group.MapPost("/{id}/enable", (string id, UserAdministration admin, ClaimsPrincipal user, CancellationToken ct) =>
            SetDisabled(id, false, admin, user, ct));
        return app;
    }

    public static async Task<Ok<List<UserSummary>>> ListUsers(UserAdministration admin, CancellationToken ct) =>
        TypedResults.Ok(await admin.ListAsync(ct));

    public static async Task<Results<NoContent, NotFound, ValidationProblem>> SetDisabled(
        string id, bool disabled, UserAdministration admin, ClaimsPrincipal user, CancellationToken ct)
    {
        // An admin who disables themself has no one left to undo it.
        if (disabled && id == user.Id()) return FieldErrors.Single("id", "You cannot disable yourself.");
        return await admin.SetDisabledAsync(id, disabled, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem>> CreateUser(CreateUserRequest request, UserAdministration admin)
    {
        var outcome = await admin.CreateAsync(request.Email, request.Password, request.Role);
        if (outcome.User is not { } user)
            return outcome.Errors.Aggregate(new FieldErrors(), (e, kv) => e.Add(kv.Key, kv.Value)).ToProblem();
        return TypedResults.Created($"/api/users/{user.Id}", new UserResponse(user.Id, user.Email, user.Role, user.CreatedAt));
    }
}
