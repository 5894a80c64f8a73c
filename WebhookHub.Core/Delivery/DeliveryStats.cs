using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

public sealed record LastFailure(DateTime At, int? StatusCode, string? Error, Guid DeliveryId);

/// <summary>One webhook's attempts over a window. <see cref="SuccessRate"/> is successful attempts / all attempts, null without attempts.</summary>
public sealed record WebhookHealth(
    Guid WebhookId, string Name, bool IsActive, int Attempts, double? SuccessRate, long? P50Ms, long? P95Ms,
    IReadOnlyDictionary<string, int> CountsByStatus, LastFailure? LastFailure);

/// <summary>Per-webhook success rate, latency percentiles and counts over a time window (the monitoring summary).</summary>
public sealed class DeliveryStats(WebhookHubDbContext db, TimeProvider time)
{
    public static readonly IReadOnlyDictionary<string, TimeSpan> Windows = new Dictionary<string, TimeSpan>
    {
        ["15m"] = TimeSpan.FromMinutes(15),
        ["1h"] = TimeSpan.FromHours(1),
        ["24h"] = TimeSpan.FromHours(24),
    };

    public async Task<List<WebhookHealth>> SummarizeAsync(IQueryable<Webhook> visible, TimeSpan window, CancellationToken ct)
    {
        var since = time.GetUtcNow().UtcDateTime - window;
        var webhooks = await visible.Where(w => w.DeletedAt == null).OrderBy(w => w.Name)
            .Select(w => new { w.Id, w.Name, w.IsActive }).ToListAsync(ct);
        var ids = webhooks.Select(w => w.Id).ToList();
        // Only the columns the figures need; percentiles are computed here because SQLite has no percentile function.
        var attempts = await db.Attempts
            .Where(a => a.CreatedAt >= since && ids.Contains(a.WebhookId))
            .Select(a => new { a.WebhookId, a.DeliveryId, a.Status, a.StatusCode, a.DurationMs, a.ErrorMessage, a.CreatedAt })
            .ToListAsync(ct);
        var byWebhook = attempts.ToLookup(a => a.WebhookId);

        return webhooks.Select(w =>
        {
            var mine = byWebhook[w.Id].ToList();
            var durations = mine.Select(a => a.DurationMs).Order().ToArray();
            var counts = Enum.GetValues<AttemptStatus>().ToDictionary(s => s.ToString().ToLowerInvariant(), s => mine.Count(a => a.Status == s));
            var failure = mine.Where(a => a.Status != AttemptStatus.Success).MaxBy(a => a.CreatedAt);
            return new WebhookHealth(w.Id, w.Name, w.IsActive, mine.Count,
                mine.Count == 0 ? null : (double)counts["success"] / mine.Count,
                Percentile(durations, 0.50), Percentile(durations, 0.95), counts,
                failure is null ? null : new LastFailure(failure.CreatedAt, failure.StatusCode, failure.ErrorMessage, failure.DeliveryId));
        }).ToList();
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static long? Percentile(long[] sorted, double p)
    {
        if (sorted.Length == 0) return null;
        var rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
