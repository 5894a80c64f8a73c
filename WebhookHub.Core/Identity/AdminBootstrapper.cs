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
    /// <summary>A bootstrap key is an admin credential typed by a person: short ones are guessable.</summary>
    public const int MinimumApiKeyLength = 32;

    public async Task RunAsync(CancellationToken ct = default)
    {
        var settings = options.Value.Bootstrap;
        if (!string.IsNullOrEmpty(settings.AdminApiKey) && settings.AdminApiKey.Length < MinimumApiKeyLength)
            throw new InvalidOperationException(
                $"WebhookHub:Bootstrap:AdminApiKey must be at least {MinimumApiKeyLength} characters long " +
                $"(it has {settings.AdminApiKey.Length}); choose a long random value, e.g. whk_ followed by 43 random characters.");

        foreach (var role in Roles.All)
            if (!await roles.RoleExistsAsync(role))
                Check(await roles.CreateAsync(new IdentityRole(role)));

        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        var admin = admins.FirstOrDefault();
        if (admin is null)
        {
            var email = string.IsNullOrWhiteSpace(settings.AdminEmail) ? "admin@webhookhub.local" : settings.AdminEmail;
            var password = string.IsNullOrEmpty(settings.AdminPassword) ? RandomPassword() : settings.AdminPassword;
            admin = new AppUser
            {
                UserName = email, Email = email, EmailConfirmed = true, CreatedAt = time.GetUtcNow().UtcDateTime,
                // A printed password sits in console logs from now on: it opens one door only, the change-password page.
                MustChangePassword = string.IsNullOrEmpty(settings.AdminPassword),
            };
            Check(await users.CreateAsync(admin, password));
            Check(await users.AddToRoleAsync(admin, Roles.Admin));
            if (string.IsNullOrEmpty(settings.AdminPassword))
            {
                // Printed once, on the console only: there is no other way to learn it.
                Console.WriteLine($"WebhookHub: created admin {email} with password {password} (shown once; you choose a new one at first sign-in).");
            }
            logger.LogInformation("Bootstrapped admin user {Email}", email);
        }

        // Exists counts revoked keys too: a revoked bootstrap key stays revoked, and its hash is unique.
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
