using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Identity;

/// <summary>A user as an admin's list shows it.</summary>
public sealed record UserSummary(string Id, string Email, string Role, DateTime CreatedAt, DateTime? DisabledAt, int ActiveKeys);

/// <summary>What creating a user came to: the user, or field → what is wrong (as in the JSON body).</summary>
public sealed record UserCreation(UserSummary? User, IReadOnlyDictionary<string, string> Errors);

/// <summary>
/// What admins do to users, for the API and the users page alike: create, list, disable, enable. Disabling takes effect at
/// once: the security stamp changes (cookies stop working on their next request), API keys stop
/// authenticating, and open circuits and hub connections are told through <see cref="AccessNotifier"/>.
/// </summary>
public sealed class UserAdministration(UserManager<AppUser> users, Persistence.WebhookHubDbContext db, AccessNotifier access, TimeProvider time)
{
    public async Task<UserCreation> CreateAsync(string? email, string? password, string? role)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(email)) errors["email"] = "email is required.";
        else if (email.Length > 256) errors["email"] = "email must be at most 256 characters.";
        else if (!new System.ComponentModel.DataAnnotations.EmailAddressAttribute().IsValid(email)) errors["email"] = "email is not a valid address.";
        if (string.IsNullOrWhiteSpace(password)) errors["password"] = "password is required.";
        else if (password.Length > 256) errors["password"] = "password must be at most 256 characters.";
        if (role is null || !Roles.All.Contains(role)) errors["role"] = $"role must be one of {string.Join(", ", Roles.All)}.";
        if (errors.Count > 0) return new(null, errors);

        if (await users.FindByEmailAsync(email!) is not null)
            return new(null, new Dictionary<string, string> { ["email"] = "A user with this email already exists." });

        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, CreatedAt = time.GetUtcNow().UtcDateTime };
        var created = await users.CreateAsync(user, password!);
        if (!created.Succeeded)
        {
            foreach (var error in created.Errors)
            {
                var field = error.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "email";
                errors[field] = errors.TryGetValue(field, out var earlier) ? earlier + " " + error.Description : error.Description;
            }
            return new(null, errors);
        }
        var added = await users.AddToRoleAsync(user, role!);
        if (!added.Succeeded)
        {
            await users.DeleteAsync(user); // nothing half-saved
            return new(null, new Dictionary<string, string> { ["role"] = string.Join(" ", added.Errors.Select(e => e.Description)) });
        }
        return new(new UserSummary(user.Id, user.Email!, role!, user.CreatedAt, null, 0), errors);
    }

    public async Task<List<UserSummary>> ListAsync(CancellationToken ct = default)
    {
        var roles = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id select new { ur.UserId, r.Name })
            .ToListAsync(ct);
        var keys = await db.ApiKeys.Where(k => k.RevokedAt == null).GroupBy(k => k.UserId)
            .Select(g => new { UserId = g.Key, Count = g.Count() }).ToListAsync(ct);
        var all = await db.Users.AsNoTracking().OrderBy(u => u.Email).ToListAsync(ct);
        return all.Select(u => new UserSummary(u.Id, u.Email ?? u.Id,
            roles.FirstOrDefault(r => r.UserId == u.Id)?.Name ?? "", u.CreatedAt, u.DisabledAt,
            keys.FirstOrDefault(k => k.UserId == u.Id)?.Count ?? 0)).ToList();
    }

    /// <returns>False when no user has this id.</returns>
    public async Task<bool> SetDisabledAsync(string userId, bool disabled, CancellationToken ct = default)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null) return false;
        user.DisabledAt = disabled ? user.DisabledAt ?? time.GetUtcNow().UtcDateTime : null;
        // A new stamp invalidates every cookie issued so far (checked on each request, see AuthSetup).
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
            throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        access.OnUserChanged(userId);
        return true;
    }
}
