namespace WebhookHub.Core.Delivery;

/// <summary>What one HTTP attempt came to: the receiver took it, or why not and whether to try again.</summary>
public abstract record AttemptOutcome(int? StatusCode, string? ResponseBody, long DurationMs)
{
    public sealed record Succeeded(int Code, string? Body, long Duration) : AttemptOutcome(Code, Body, Duration);

    /// <param name="Reason">For people: "HTTP 503 Service Unavailable", "Timed out after 30 s", …</param>
    /// <param name="Retryable">Network errors, timeouts, 5xx, 408 and 429; never 3xx or other 4xx.</param>
    /// <param name="RetryAfter">What the receiver asked for in <c>Retry-After</c>, uncapped.</param>
    public sealed record Failed(string Reason, int? Code, string? Body, long Duration, bool Retryable, TimeSpan? RetryAfter = null)
        : AttemptOutcome(Code, Body, Duration);
}
