using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Hosting;

public static class HangfireSetup
{
    public const string AdminPolicy = "HangfireDashboard";

    /// <summary>
    /// Hangfire on its own SQLite file (hangfire.db), with an in-process server. The defaults poll every
    /// 15 s, which would turn a 1 s retry into 15 s; these settings keep retries and first attempts real time.
    /// </summary>
    public static IServiceCollection AddHangfireSetup(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(WebhookHubOptions.Section).Get<WebhookHubOptions>() ?? new WebhookHubOptions();
        var hangfire = configuration.GetSection("WebhookHub:Hangfire").Get<HangfireSettings>() ?? new HangfireSettings();
        var path = Path.Combine(options.FullDataDirectory, "hangfire.db");

        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(HangfireStorageFactory.Create(path, new SQLiteStorageOptions
            {
                QueuePollInterval = TimeSpan.FromMilliseconds(hangfire.QueuePollIntervalMs),
                DistributedLockLifetime = TimeSpan.FromSeconds(30),
                // Crash recovery does not wait for this (see HangfireStorageFactory); kept long so a slow
                // fan-out is never fetched twice.
                InvisibilityTimeout = TimeSpan.FromMinutes(30),
            })));

        services.AddHangfireServer(server =>
        {
            server.WorkerCount = hangfire.WorkerCount;
            server.SchedulePollingInterval = TimeSpan.FromMilliseconds(hangfire.SchedulePollingIntervalMs);
            server.HeartbeatInterval = TimeSpan.FromSeconds(10);
            server.ServerCheckInterval = TimeSpan.FromSeconds(30);
            server.ServerTimeout = TimeSpan.FromMinutes(1);
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(Core.Identity.Roles.Admin));
        return services;
    }

    /// <summary>
    /// Before the Hangfire server starts: hand back to Hangfire whatever a crash left owed (see
    /// <see cref="DeliveryRecovery"/>), and register the recurring retention purge.
    /// </summary>
    public static async Task PrepareBackgroundWorkAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var options = services.GetRequiredService<IOptions<WebhookHubOptions>>().Value;
        await using (var scope = services.CreateAsyncScope())
        {
            var live = HangfireStorageFactory.ReadLiveJobIds(Path.Combine(options.FullDataDirectory, "hangfire.db"));
            await scope.ServiceProvider.GetRequiredService<DeliveryRecovery>().RunAsync(live, ct);
        }
        services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<RetentionJob>(
            RetentionJob.RecurringJobId, j => j.PurgeAsync(CancellationToken.None), options.Retention.Cron);
    }

    public static void MapHangfireSetup(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboardWithAuthorizationPolicy(AdminPolicy, "/hangfire", new DashboardOptions
        {
            DashboardTitle = "WebhookHub jobs",
            AppPath = "/",
            // The authorization policy guards the endpoint; Hangfire's own local-only filter must step aside.
            Authorization = [],
        });
}

/// <summary><c>WebhookHub:Hangfire</c>: how often Hangfire polls its SQLite file, and how many workers it runs.</summary>
public sealed class HangfireSettings
{
    public int QueuePollIntervalMs { get; set; } = 200;
    public int SchedulePollingIntervalMs { get; set; } = 200;
    public int WorkerCount { get; set; } = 20;
}
