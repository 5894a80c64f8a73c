using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Sources;

namespace WebhookHub.Web.Hosting;

/// <summary>
/// Registers the recurring jobs (the retention purge, the sources' check sweep) on a node that runs background
/// work, beside start-up rather than in its way. Registering takes a Hangfire lock per recurring job; a node killed
/// while it held one (its scheduler takes it every few seconds) leaves the lock behind on a shared PostgreSQL until
/// it expires (30 s), and a restart that waited for it in line would serve nothing meanwhile, or crash. The jobs
/// registered by the earlier run go on running; this retries until the lock is free.
/// </summary>
public sealed class RecurringJobsRegistration(
    IRecurringJobManager recurringJobs, IOptions<WebhookHubOptions> options, ILogger<RecurringJobsRegistration> logger)
    : BackgroundService
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // AddOrUpdate blocks while it waits for the lock; since .NET 10 all of ExecuteAsync runs off the start-up thread.
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                Register();
                if (attempt > 1) logger.LogInformation("Recurring jobs registered after {Attempts} attempts", attempt);
                return;
            }
            catch (DistributedLockTimeoutException e)
            {
                if (attempt == 1)
                    logger.LogWarning("Recurring jobs not registered yet: {Reason}. A process that stopped while holding the lock leaves it until "
                        + "it expires; the jobs as registered before go on running meanwhile. Retrying.", e.Message);
                await Task.Delay(RetryAfter, stoppingToken);
            }
        }
    }

    private void Register()
    {
        recurringJobs.AddOrUpdate<RetentionJob>(
            RetentionJob.RecurringJobId, j => j.PurgeAsync(CancellationToken.None), options.Value.Retention.Cron);
        recurringJobs.AddOrUpdate<SourceCheckJobs>(
            SourceCheckJobs.RecurringJobId, j => j.EnqueueDueAsync(CancellationToken.None), SourceCheckJobs.SweepCron);
    }
}
