using Hangfire.Common;
using Hangfire.States;

namespace WebhookHub.Core.Delivery;

/// <summary>Thrown by a delivery job whose attempt failed retryably with budget left: try again at <see cref="NextAttemptAt"/> (UTC).</summary>
public sealed class RetryLaterException(DateTime nextAttemptAt, TimeSpan delay, string reason) : Exception(reason)
{
    public DateTime NextAttemptAt { get; } = nextAttemptAt;
    public TimeSpan Delay { get; } = delay;
}

/// <summary>Thrown when a delivery is dead-lettered, so that its Hangfire job stays in the Failed state.</summary>
public sealed class DeliveryFailedException(string message) : Exception(message);

/// <summary>
/// Thrown by a retry job whose receiver did not answer within <see cref="EndpointOptions.HandOffAfterMs"/>:
/// the attempt goes on in the endpoint's lane, the worker is freed, and the job ends Deleted with this reason
/// (the attempt's result gets its own job).
/// </summary>
public sealed class AttemptHandedOffException(string message) : Exception(message);

/// <summary>
/// Turns a job's <see cref="RetryLaterException"/> into a Scheduled state after our own delay
/// (DESIGN.md §6), so Hangfire's retry counter and its backoff play no part. Stateless: Hangfire
/// shares one filter instance across jobs.
/// </summary>
public sealed class RetryOnScheduleAttribute : JobFilterAttribute, IElectStateFilter
{
    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is FailedState { Exception: AttemptHandedOffException handedOff })
        {
            context.CandidateState = new DeletedState { Reason = handedOff.Message };
            return;
        }
        if (context.CandidateState is not FailedState { Exception: RetryLaterException retry }) return;
        context.CandidateState = new ScheduledState(HangfireTime(retry.NextAttemptAt))
        {
            Reason = RetryJobs.RetryIn(retry.Delay, retry.Message),
        };
    }

    /// <summary>
    /// Hangfire keeps scheduled times as whole unix seconds (truncated), so a job can start up to a
    /// second early. Rounding to the nearest second keeps the error within half a second either way;
    /// the job waits out what is left when it starts early (see <see cref="DeliveryJob.Retry"/>).
    /// </summary>
    public static DateTime HangfireTime(DateTime nextAttemptAt)
    {
        var ticks = (nextAttemptAt.Ticks + TimeSpan.TicksPerSecond / 2) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;
        return new DateTime(ticks, DateTimeKind.Utc);
    }
}
