using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Postgres;
using WebhookHub.Core.Persistence.Sqlite;
using Hangfire;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core;

public static class ServiceCollectionExtensions
{
    /// <summary>Domain, persistence (SQLite under the data directory, or PostgreSQL) and the delivery pipeline.</summary>
    public static IServiceCollection AddWebhookHubCore(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(WebhookHubOptions.Section);
        services.Configure<WebhookHubOptions>(section);
        var options = section.Get<WebhookHubOptions>() ?? new WebhookHubOptions();
        var dataDirectory = options.FullDataDirectory;
        Directory.CreateDirectory(dataDirectory);

        if (options.Role != NodeRole.All && options.Database.Provider != DatabaseProvider.Postgres)
            throw new InvalidOperationException(
                $"WebhookHub:Role is {options.Role}: several nodes share one database, so set WebhookHub:Database:Provider to Postgres (SQLite runs only Role All).");

        services.AddSingleton<TimeProvider>(MicrosecondClock.Instance);
        if (options.Database.Provider == DatabaseProvider.Postgres)
            services.AddPostgresPersistence(configuration.GetConnectionString("WebhookHub") is { Length: > 0 } connectionString ? connectionString
                : throw new InvalidOperationException("WebhookHub:Database:Provider is Postgres: set ConnectionStrings:WebhookHub (or ConnectionStrings__WebhookHub)."), options);
        else
            services.AddSqlitePersistence(options);
        services.AddSingleton<JobStorage>(sp => sp.GetRequiredService<IJobStore>().Storage);

        var dataProtection = services.AddDataProtection()
            .SetApplicationName("WebhookHub")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));
        // Without a certificate the key files are plain XML: whoever reads the data directory (a backup, a
        // copied volume) can decrypt every webhook secret. With one, the key ring is encrypted to it.
        var certificate = options.DataProtection;
        if (!string.IsNullOrEmpty(certificate.CertificatePath))
            dataProtection.ProtectKeysWithCertificate(
                X509CertificateLoader.LoadPkcs12FromFile(certificate.CertificatePath, certificate.CertificatePassword));
        else if (!string.IsNullOrEmpty(certificate.CertificateThumbprint))
            dataProtection.ProtectKeysWithCertificate(certificate.CertificateThumbprint);

        services.AddSingleton<WebhookSecretProtector>();
        services.AddSingleton<WebhookUrlValidator>();
        services.AddScoped<WebhookService>();
        services.AddScoped<Delivery.DeliveryHistory>();
        services.AddScoped<Events.PolicyChangeService>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<AdminBootstrapper>();
        services.AddScoped<UserAdministration>();
        services.AddSingleton<AccessNotifier>();

        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => WebhookSender.CreateHandler(options.Delivery))
            // The pooled handler lives as long as the app; PooledConnectionLifetime recycles connections instead.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Each attempt already writes one structured line; the per-request HttpClient lines would double it.
            .RemoveAllLoggers();
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<DeliveryNotifier>();
        // The pipeline, one step a class (Delivery/): DeliveryJob is only what Hangfire runs.
        services.AddScoped<FanOut>();
        services.AddScoped<AttemptRunner>();
        services.AddScoped<AttemptRecorder>();
        services.AddScoped<RetryJobs>();
        services.AddScoped<DeliveryJob>();
        services.AddScoped<RecoveryAttempts>();
        services.AddScoped<TestSend>();
        services.AddSingleton<Delivery.Endpoints.CircuitBreaker>();
        services.AddSingleton<Delivery.Endpoints.EndpointLanes>();
        services.AddSingleton<Delivery.Endpoints.RedriveRunner>();
        services.AddSingleton<Delivery.Endpoints.TestSendQuota>();
        // Probes, auto-disable and redrives are background work: a web node leaves them to the workers.
        if (options.Role.RunsBackgroundWork()) services.AddHostedService<Delivery.Endpoints.EndpointSupervisor>();
        services.AddScoped<RowWriter>();
        services.AddScoped<RollupWriter>();
        services.AddScoped<RollupBackfill>();
        services.AddSingleton<FanoutDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<FanoutDispatcher>());
        services.AddScoped<DeadLetterService>();
        services.AddScoped<DeliveryStats>();
        services.AddScoped<WebhookAutoDisabler>();
        services.AddScoped<RetentionJob>();
        services.AddScoped<DeliveryRecovery>();
        services.AddScoped<OverdueRetrySweep>();
        return services;
    }

    /// <summary>Applies migrations, switches a SQLite database to WAL, builds rollups for an upgraded hub, and bootstraps roles and the first admin.</summary>
    public static async Task InitializeWebhookHubAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        // EF Core takes a migration lock (a table on SQLite, an advisory lock on PostgreSQL): concurrent starts are safe.
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite()) await SqlitePersistence.UseWriteAheadLogAsync(db.Database, ct);
        await scope.ServiceProvider.GetRequiredService<RollupBackfill>().RunAsync(ct);
        await scope.ServiceProvider.GetRequiredService<AdminBootstrapper>().RunAsync(ct);

        var options = scope.ServiceProvider.GetRequiredService<IOptions<WebhookHubOptions>>().Value;
        if (!options.DataProtection.IsConfigured)
            scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("WebhookHub.Security").LogWarning(
                "Data Protection keys in {KeyDirectory} are stored unencrypted: anyone who can read that folder can decrypt " +
                "webhook secrets. Set WebhookHub:DataProtection:CertificatePath (and CertificatePassword) or CertificateThumbprint in production.",
                Path.Combine(options.FullDataDirectory, "keys"));
    }
}
