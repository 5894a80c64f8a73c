using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Identity;

/// <summary>A user as an admin's list shows it.</summary>
public sealed record UserSummary(string Id, string Email, string Role, DateTime CreatedAt, DateTime? DisabledAt, int ActiveKeys);

/// <summary>
/// What admins do to users beyond creating them: list, disable, enable. Disabling takes effect at
/// once: the security stamp changes (cookies stop working on their next request), API keys stop
/// authenticating, and open circuits and hub connections are told through <see cref="AccessNotifier"/>.
/// </summary>
public sealed class UserAdministration(UserManager<AppUser> users, Persistence.WebhookHubDbContext db, AccessNotifier access, TimeProvider time)
{
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
