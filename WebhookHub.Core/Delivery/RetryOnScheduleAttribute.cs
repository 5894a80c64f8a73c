using Hangfire.Common;
using Hangfire.States;

namespace WebhookHub.Core.Delivery;

/// <summary>Thrown by a delivery job whose attempt failed retryably with budget left: try again after <see cref="Delay"/>.</summary>
public sealed class RetryLaterException(TimeSpan delay, string reason) : Exception(reason)
{
    public TimeSpan Delay { get; } = delay;
}

/// <summary>Thrown when a delivery is dead-lettered, so that its Hangfire job stays in the Failed state.</summary>
public sealed class DeliveryFailedException(string message) : Exception(message);

/// <summary>
/// Turns a job's <see cref="RetryLaterException"/> into a Scheduled state after our own delay
/// (DESIGN.md §6), so Hangfire's retry counter and its backoff play no part. Stateless: Hangfire
/// shares one filter instance across jobs.
/// </summary>
public sealed class RetryOnScheduleAttribute : JobFilterAttribute, IElectStateFilter
{
    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState { Exception: RetryLaterException retry }) return;
        context.CandidateState = new ScheduledState(retry.Delay)
        {
            Reason = $"Retry in {retry.Delay.TotalSeconds:0.###} s: {retry.Message}",
        };
    }
}
