using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Delivery.Endpoints;

/// <summary>
/// Test sends per webhook (<see cref="QuotaOptions"/>): a burst, then one every few seconds. A test is
/// sent at once and not retried, so without this a customer pressing "test" could keep a slot of a
/// black hole's lane, and a stranger's patience, busy forever. In memory: a restart forgives.
/// </summary>
public sealed class TestSendQuota(IOptions<WebhookHubOptions> options, TimeProvider time)
{
    private readonly Dictionary<Guid, (double Tokens, DateTime At)> _buckets = [];
    private readonly Lock _lock = new();

    /// <summary>Null when a test may go now (and takes it), else how long until the next one may.</summary>
    public TimeSpan? TryTake(Guid webhookId)
    {
        var quota = options.Value.Quotas;
        var every = Math.Max(0.001, quota.TestSendEverySeconds);
        var burst = Math.Max(1, quota.TestSendBurst);
        var now = time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            var (tokens, at) = _buckets.TryGetValue(webhookId, out var bucket) ? bucket : (burst, now);
            tokens = Math.Min(burst, tokens + (now - at).TotalSeconds / every);
            if (tokens >= 1)
            {
                _buckets[webhookId] = (tokens - 1, now);
                return null;
            }
            _buckets[webhookId] = (tokens, now);
            return TimeSpan.FromSeconds((1 - tokens) * every);
        }
    }
}
