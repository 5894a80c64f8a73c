using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
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

    public static async Task<Results<Created<UserResponse>, ValidationProblem>> CreateUser(
        CreateUserRequest request, UserManager<AppUser> users, TimeProvider time)
    {
        var errors = new FieldErrors();
        errors.Require("email", request.Email, 256);
        if (!string.IsNullOrWhiteSpace(request.Email) && !new EmailAddressAttribute().IsValid(request.Email))
            errors.Add("email", "email is not a valid address.");
        errors.Require("password", request.Password, 256);
        if (!Roles.All.Contains(request.Role))
            errors.Add("role", $"role must be one of {string.Join(", ", Roles.All)}.");
        if (errors.Any) return errors.ToProblem();

        if (await users.FindByEmailAsync(request.Email!) is not null)
            return FieldErrors.Single("email", "A user with this email already exists.");

        var user = new AppUser { UserName = request.Email, Email = request.Email, EmailConfirmed = true, CreatedAt = time.GetUtcNow().UtcDateTime };
        var created = await users.CreateAsync(user, request.Password!);
        if (!created.Succeeded)
        {
            foreach (var error in created.Errors)
                errors.Add(error.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "email", error.Description);
            return errors.ToProblem();
        }
        var role = await users.AddToRoleAsync(user, request.Role!);
        if (!role.Succeeded)
        {
            await users.DeleteAsync(user); // nothing half-saved
            return FieldErrors.Single("role", string.Join(" ", role.Errors.Select(e => e.Description)));
        }
        return TypedResults.Created($"/api/users/{user.Id}", new UserResponse(user.Id, user.Email!, request.Role!, user.CreatedAt));
    }
}
