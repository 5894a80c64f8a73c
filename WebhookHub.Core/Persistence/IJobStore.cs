using Hangfire;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// Hangfire's storage on the app's provider, and the two things crash recovery needs from it that
/// Hangfire's API does not give: handing back what a killed process had fetched, and which jobs will run
/// on their own (<see cref="Delivery.DeliveryRecovery"/> gives every other owed delivery a new job).
/// </summary>
public interface IJobStore
{
    JobStorage Storage { get; }

    /// <summary>Called once at start, before this process's Hangfire server runs.</summary>
    void HandBackWorkOfDeadProcess();

    /// <summary>Ids of jobs that will run on their own: enqueued, scheduled, processing, awaiting.</summary>
    IReadOnlySet<string> LiveJobIds();
}
