using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Identity;

/// <summary>
/// First start: creates the roles, the admin user and (when configured) the admin API key.
/// Idempotent: later starts change nothing that already exists.
/// </summary>
public sealed class AdminBootstrapper(
    UserManager<AppUser> users,
    RoleManager<IdentityRole> roles,
    ApiKeyService apiKeys,
    IOptions<WebhookHubOptions> options,
    TimeProvider time,
    ILogger<AdminBootstrapper> logger)
{
    public async Task RunAsync(CancellationToken ct = default)
    {
        foreach (var role in Roles.All)
            if (!await roles.RoleExistsAsync(role))
                Check(await roles.CreateAsync(new IdentityRole(role)));

        var settings = options.Value.Bootstrap;
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        var admin = admins.FirstOrDefault();
        if (admin is null)
        {
            var email = string.IsNullOrWhiteSpace(settings.AdminEmail) ? "admin@webhookhub.local" : settings.AdminEmail;
            var password = string.IsNullOrEmpty(settings.AdminPassword) ? RandomPassword() : settings.AdminPassword;
            admin = new AppUser { UserName = email, Email = email, EmailConfirmed = true, CreatedAt = time.GetUtcNow().UtcDateTime };
            Check(await users.CreateAsync(admin, password));
            Check(await users.AddToRoleAsync(admin, Roles.Admin));
            if (string.IsNullOrEmpty(settings.AdminPassword))
            {
                // Printed once, on the console only: there is no other way to learn it.
                Console.WriteLine($"WebhookHub: created admin {email} with password {password} (shown once; change it after signing in).");
            }
            logger.LogInformation("Bootstrapped admin user {Email}", email);
        }

        if (!string.IsNullOrEmpty(settings.AdminApiKey) && !await apiKeys.ExistsAsync(settings.AdminApiKey, ct))
        {
            await apiKeys.AddAsync(admin.Id, "bootstrap", settings.AdminApiKey, ct);
            logger.LogInformation("Bootstrapped the admin API key from configuration");
        }
    }

    private static string RandomPassword() =>
        "Wh-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', 'x').Replace('/', 'y') + "1a";

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException("Bootstrap failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
    }
}
