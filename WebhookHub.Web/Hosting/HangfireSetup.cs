using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Hosting;

public static class HangfireSetup
{
    public const string AdminPolicy = "HangfireDashboard";

    /// <summary>
    /// Hangfire on the app's database provider (<see cref="IJobStore"/>: its own SQLite file, or a schema in
    /// the PostgreSQL database), with an in-process server. The defaults poll every 15 s, which would turn
    /// a 1 s retry into 15 s; these settings keep retries and first attempts real time.
    /// </summary>
    public static IServiceCollection AddHangfireSetup(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(WebhookHubOptions.Section).Get<WebhookHubOptions>() ?? new WebhookHubOptions();
        var hangfire = options.Hangfire;

        services.AddHangfire((provider, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(provider.GetRequiredService<JobStorage>()));

        services.AddHangfireServer((provider, server) =>
        {
            server.WorkerCount = hangfire.WorkersFor(options.Database.Provider);
            server.SchedulePollingInterval = TimeSpan.FromMilliseconds(hangfire.SchedulePollingIntervalMs);
            // Due retries are enqueued several at a time where the storage can (PostgreSQL): one at a time, each a
            // few round trips, 200 retries due in one second took seconds to enqueue. SQLite's storage cannot batch.
            if (provider.GetRequiredService<JobStorage>().HasFeature(JobStorageFeatures.Connection.BatchedGetFirstByLowest))
                server.MaxDegreeOfParallelismForSchedulers = hangfire.SchedulerParallelism;
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
        var jobStore = services.GetRequiredService<IJobStore>();
        jobStore.HandBackWorkOfDeadProcess();
        await using (var scope = services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<DeliveryRecovery>().RunAsync(jobStore.LiveJobIds(), ct);
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
