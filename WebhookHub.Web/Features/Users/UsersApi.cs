using System.ComponentModel.DataAnnotations;
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
        app.MapGroup("/api/users").WithTags("Users")
            .RequireAuthorization(policy => policy.RequireRole(Roles.Admin))
            .MapPost("/", CreateUser)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
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
