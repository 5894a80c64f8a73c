using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core;

public static class ServiceCollectionExtensions
{
    /// <summary>Domain, persistence (SQLite under the data directory) and the delivery pipeline.</summary>
    public static IServiceCollection AddWebhookHubCore(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(WebhookHubOptions.Section);
        services.Configure<WebhookHubOptions>(section);
        var options = section.Get<WebhookHubOptions>() ?? new WebhookHubOptions();
        var dataDirectory = options.FullDataDirectory;
        Directory.CreateDirectory(dataDirectory);

        services.AddSingleton(TimeProvider.System);
        services.AddDbContext<WebhookHubDbContext>(db => db
            .UseSqlite($"Data Source={Path.Combine(dataDirectory, "app.db")};Default Timeout=30")
            .AddInterceptors(new SqlitePragmas()));

        services.AddDataProtection()
            .SetApplicationName("WebhookHub")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));

        services.AddSingleton<WebhookSecretProtector>();
        services.AddSingleton<WebhookUrlValidator>();
        services.AddScoped<WebhookService>();
        services.AddScoped<Delivery.DeliveryHistory>();
        services.AddScoped<Events.PolicyChangeService>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<AdminBootstrapper>();
        return services;
    }

    /// <summary>Applies migrations, switches the database to WAL, and bootstraps roles and the first admin.</summary>
    public static async Task InitializeWebhookHubAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        await db.Database.MigrateAsync(ct);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        await scope.ServiceProvider.GetRequiredService<AdminBootstrapper>().RunAsync(ct);
    }
}
