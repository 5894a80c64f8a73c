namespace WebhookHub.Core.Sources;

public sealed record FetchRequest(string Url, IReadOnlyDictionary<string, string> Headers, string? ETag = null, string? LastModified = null);

/// <param name="StatusCode">Null when no response came (DNS, connect, timeout).</param>
/// <param name="Body">The body of a 2xx, at most <see cref="SourceOptions.MaxBytes"/>; null otherwise.</param>
/// <param name="RetryAfter">The server's Retry-After on a 429 or 503, when it gave one.</param>
/// <param name="Error">Null on a 2xx or 304; otherwise one line a person can act on ("HTTP 503", "timed out after 20 s", "larger than 5 MB").</param>
public sealed record FetchResult(
    int? StatusCode, bool NotModified, byte[]? Body, string? ContentType, string? ETag, string? LastModified, TimeSpan? RetryAfter, string? Error,
    TimeSpan Duration);

/// <summary>
/// Fetches a source's page politely: a descriptive User-Agent, conditional GET, size and time limits, and the same
/// connect-time address policy as webhook deliveries.
/// </summary>
public sealed class PageFetcher
{
    public Task<FetchResult> FetchAsync(FetchRequest request, CancellationToken ct = default) => throw new NotImplementedException();
}
