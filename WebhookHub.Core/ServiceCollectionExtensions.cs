using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
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

        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => WebhookSender.CreateHandler(options.Delivery))
            // The pooled handler lives as long as the app; PooledConnectionLifetime recycles connections instead.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Each attempt already writes one structured line; the per-request HttpClient lines would double it.
            .RemoveAllLoggers();
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<DeliveryNotifier>();
        services.AddScoped<DeliveryJob>();
        services.AddSingleton<Delivery.Endpoints.CircuitBreaker>();
        services.AddSingleton<Delivery.Endpoints.EndpointLanes>();
        services.AddSingleton<Delivery.Endpoints.RedriveRunner>();
        services.AddSingleton<Delivery.Endpoints.TestSendQuota>();
        services.AddHostedService<Delivery.Endpoints.EndpointSupervisor>();
        services.AddScoped<RowWriter>();
        services.AddSingleton<FanoutDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<FanoutDispatcher>());
        services.AddHostedService<WalCheckpointer>();
        services.AddScoped<DeadLetterService>();
        services.AddScoped<DeliveryStats>();
        services.AddScoped<WebhookAutoDisabler>();
        services.AddScoped<RetentionJob>();
        services.AddScoped<DeliveryRecovery>();
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
