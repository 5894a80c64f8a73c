using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// What may be retried and when (DESIGN.md §6). The schedule is data
/// (<c>WebhookHub:Delivery:RetryDelaysSeconds</c>): its length is the number of retries in one budget.
/// </summary>
public sealed class RetryPolicy(IOptions<WebhookHubOptions> options, TimeProvider time)
{
    private DeliveryOptions Options => options.Value.Delivery;

    /// <summary>Attempts in one budget: the first plus one per configured delay.</summary>
    public int AttemptsPerBudget => Options.RetrySchedule.Length + 1;

    /// <summary>Network errors and timeouts are retried by the sender; of answers, 5xx, 408 and 429 are.</summary>
    public static bool IsRetryable(int statusCode) => statusCode is >= 500 or 408 or 429;

    /// <summary>
    /// The wait before the next attempt, or null when the delivery is done (success, a final answer,
    /// or no budget left). <paramref name="attemptInBudget"/> counts from 1 within the current budget.
    /// A receiver's <c>Retry-After</c> is honoured up to <see cref="DeliveryOptions.MaxRetryAfterSeconds"/>,
    /// never shortening our own schedule.
    /// </summary>
    public TimeSpan? NextDelay(AttemptOutcome outcome, int attemptInBudget)
    {
        if (outcome is not AttemptOutcome.Failed { Retryable: true } failed) return null;
        var delays = Options.RetrySchedule;
        if (attemptInBudget < 1 || attemptInBudget > delays.Length) return null;
        var scheduled = TimeSpan.FromSeconds(delays[attemptInBudget - 1]);
        if (failed.RetryAfter is not { } asked) return scheduled;
        var capped = TimeSpan.FromSeconds(Math.Min(asked.TotalSeconds, Options.MaxRetryAfterSeconds));
        return capped > scheduled ? capped : scheduled;
    }

    /// <summary><c>Retry-After</c> as seconds or an HTTP date; a date in the past means now.</summary>
    public TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header is null) return null;
        if (header.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
