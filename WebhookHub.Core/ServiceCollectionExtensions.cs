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

        // One application name everywhere: it isolates key rings, so nodes with different ones could not read each other's.
        var dataProtection = services.AddDataProtection().SetApplicationName("WebhookHub");
        // On PostgreSQL several nodes share the database, so the keys live there too (SharedKeyRing): any node
        // decrypts the webhook secrets and honours the sign-in cookies another made. SQLite is one node: files.
        if (options.Database.Provider == DatabaseProvider.Postgres)
            dataProtection.PersistKeysToDbContext<WebhookHubDbContext>();
        else
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.KeyDirectory));
        // Without a certificate the keys are plain XML: whoever reads the data directory or the database (a backup,
        // a copied volume) can decrypt every webhook secret. With one, each key is encrypted to it.
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
        services.AddSingleton(sp =>
        {
            var breaker = ActivatorUtilities.CreateInstance<Delivery.Endpoints.CircuitBreaker>(sp);
            breaker.FollowOtherNodes();
            return breaker;
        });
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
        // Sources (issue 17): pages WebhookHub watches itself. The fetcher is one per process: its per-host spacing
        // is this node's memory of when it last asked each site.
        services.AddSingleton<Sources.PageFetcher>();
        services.AddScoped<Sources.SourceService>();
        services.AddScoped<Sources.SourceChecker>();
        services.AddScoped<Sources.SourceCheckJobs>();
        return services;
    }

    /// <summary>
    /// Applies migrations, switches a SQLite database to WAL, builds rollups for an upgraded hub, prepares the shared
    /// key ring on PostgreSQL (<see cref="SharedKeyRing"/>), and bootstraps roles and the first admin; on PostgreSQL
    /// one node at a time (<see cref="StartupLock"/>).
    /// </summary>
    public static async Task InitializeWebhookHubAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        var sqlite = db.Database.IsSqlite();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<WebhookHubOptions>>().Value;
        var securityLog = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("WebhookHub.Security");
        // Nodes on one PostgreSQL database start one at a time (EF Core's migration lock alone let two apply a migration twice).
        await using (sqlite ? null : await StartupLock.AcquireAsync(db.Database.GetConnectionString()!, ct))
        {
            await db.Database.MigrateAsync(ct);
            if (sqlite) await SqlitePersistence.UseWriteAheadLogAsync(db.Database, ct);
            await scope.ServiceProvider.GetRequiredService<RollupBackfill>().RunAsync(ct);
            if (!sqlite)
                await SharedKeyRing.PrepareAsync(db, scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), options.KeyDirectory, securityLog, ct);
            await scope.ServiceProvider.GetRequiredService<AdminBootstrapper>().RunAsync(ct);
        }

        if (!options.DataProtection.IsConfigured) WarnKeysUnencrypted(securityLog, sqlite ? options.KeyDirectory : null);
    }

    /// <param name="keyDirectory">SQLite's key files; null on PostgreSQL, whose keys are in the database.</param>
    private static void WarnKeysUnencrypted(ILogger log, string? keyDirectory)
    {
        const string advice = "Set WebhookHub:DataProtection:CertificatePath (and CertificatePassword) or CertificateThumbprint in production";
        if (keyDirectory is not null)
            log.LogWarning("Data Protection keys in {KeyDirectory} are stored unencrypted: anyone who can read that folder can decrypt " +
                "webhook secrets. " + advice + ".", keyDirectory);
        else
            log.LogWarning("Data Protection keys in the database table data_protection_keys are stored unencrypted: anyone who can read " +
                "that table (a database backup, a replica) can decrypt webhook secrets. " + advice + ", the same certificate on every node.");
    }
}
