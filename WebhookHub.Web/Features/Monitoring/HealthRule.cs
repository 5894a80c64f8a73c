using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Features.Monitoring;

public enum HealthState
{
    Healthy,
    Degraded,
    Failing,
    Disabled,
}

/// <summary>
/// How a webhook's window of attempts reads to an operator. Failed attempts include those that will be
/// retried: a receiver that needs retries is already costing its customer time.
/// </summary>
public static class HealthRule
{
    public const double FailingBelow = 0.80;
    public const double DegradedBelow = 0.99;
    public const int FailingStreak = 5;
    public const long SlowP95Ms = 5_000;

    public const string Description =
        "Disabled: switched off. Failing: under 80 % of attempts succeeded, or 5 attempts failed since the last success. " +
        "Degraded: under 99 % succeeded, or p95 latency over 5 s. Healthy: anything else, including no attempts in the window.";

    /// <param name="trailingFailures">Failed attempts since the last success in the window (<see cref="RollupTotals.TrailingFailures"/>).</param>
    public static (HealthState State, string Why) Classify(WebhookHealth health, int trailingFailures)
    {
        if (!health.IsActive) return (HealthState.Disabled, "switched off");
        if (trailingFailures >= FailingStreak) return (HealthState.Failing, $"{trailingFailures} failed since the last success");
        if (health.SuccessRate is { } rate)
        {
            if (rate < FailingBelow) return (HealthState.Failing, $"{rate:P0} succeeded");
            if (rate < DegradedBelow) return (HealthState.Degraded, $"{rate:P1} succeeded");
        }
        if (health.P95Ms is > SlowP95Ms) return (HealthState.Degraded, $"p95 {health.P95Ms} ms");
        return (HealthState.Healthy, health.Attempts == 0 ? "no attempts" : "ok");
    }
}
