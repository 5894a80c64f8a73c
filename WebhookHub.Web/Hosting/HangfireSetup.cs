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

        // A web node enqueues and reads jobs (dead-letter retries, /hangfire) but runs none: the workers do.
        if (options.Role.RunsBackgroundWork())
            services.AddHangfireServer((provider, server) =>
            {
                server.ServerName = ServerName(options);
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
        if (options.Role.RunsBackgroundWork())
            services.AddHostedService<RecurringJobsRegistration>();

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(Core.Identity.Roles.Admin));
        return services;
    }

    /// <summary>
    /// This node's Hangfire server name (its id in /hangfire's server list is this, the process id and a guid): the node
    /// id, so that on a shared database each node finds its own server. Hangfire keeps a name to 100 characters, lowercased.
    /// </summary>
    public static string ServerName(WebhookHubOptions options) => options.Node.ToLowerInvariant();

    /// <summary>
    /// Before the Hangfire server starts: hand back to Hangfire whatever a crash left owed (see
    /// <see cref="DeliveryRecovery"/>). The recurring jobs are registered beside start-up (<see cref="RecurringJobsRegistration"/>).
    /// Not on a web node: it runs no background work, and the workers on the shared database recover it.
    /// </summary>
    public static async Task PrepareBackgroundWorkAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        var options = services.GetRequiredService<IOptions<WebhookHubOptions>>().Value;
        if (!options.Role.RunsBackgroundWork()) return;
        var jobStore = services.GetRequiredService<IJobStore>();
        jobStore.HandBackWorkOfDeadProcess();
        await using (var scope = services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<DeliveryRecovery>().RunAsync(jobStore.LiveJobIds(), ct);
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
