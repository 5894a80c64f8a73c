namespace WebhookHub.Core.Delivery;

/// <summary>
/// One webhook's attempts in one UTC minute (table <c>webhook_minute_rollups</c>): what every figure
/// of monitoring, health and the webhooks list is computed from, so that no read loads raw attempts.
/// Written with the attempt rows, in their transaction, by <see cref="Persistence.RollupWriter"/>:
/// counts add up, so a row is only ever incremented. An attempt is <c>failed</c> only when it was its
/// delivery's last (the delivery is dead-lettered), so failed attempts are the minute's dead letters.
/// </summary>
public sealed class MinuteRollup
{
    public Guid WebhookId { get; set; }

    /// <summary>The minute's start, UTC.</summary>
    public DateTime Minute { get; set; }

    public int Succeeded { get; set; }
    public int Retrying { get; set; }
    public int Failed { get; set; }
    public long DurationSumMs { get; set; }

    /// <summary>Attempts per latency bucket (<see cref="LatencyHistogram"/>); stored as one column per bucket.</summary>
    public int[] Latency { get; init; } = new int[LatencyHistogram.Buckets];

    public int Attempts => Succeeded + Retrying + Failed;

    public static DateTime MinuteOf(DateTime at) => new(at.Ticks - at.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);

    public void Add(AttemptStatus status, long durationMs)
    {
        switch (status)
        {
            case AttemptStatus.Success: Succeeded++; break;
            case AttemptStatus.Retrying: Retrying++; break;
            default: Failed++; break;
        }
        DurationSumMs += durationMs;
        Latency[LatencyHistogram.BucketOf(durationMs)]++;
    }

    /// <summary>One row per webhook and minute of a batch of attempts: the batch's single upsert per key.</summary>
    public static List<MinuteRollup> Of(IEnumerable<DeliveryAttempt> attempts)
    {
        var rollups = new Dictionary<(Guid, DateTime), MinuteRollup>();
        foreach (var a in attempts)
        {
            var minute = MinuteOf(a.CreatedAt);
            if (!rollups.TryGetValue((a.WebhookId, minute), out var rollup))
                rollups[(a.WebhookId, minute)] = rollup = new MinuteRollup { WebhookId = a.WebhookId, Minute = minute };
            rollup.Add(a.Status, a.DurationMs);
        }
        return rollups.Values.ToList();
    }
}

/// <summary>
/// A fixed log-scale latency histogram: bucket k holds durations up to 2^(k/4) ms (above the previous
/// bound), k = 0 … 60, so from 1 ms to 32.8 s with the last bucket open-ended. Bounds are 19% apart:
/// a percentile read from the histogram is its bucket's upper bound, never below the exact value and
/// at most 19% (plus rounding up to a whole millisecond) above it.
/// </summary>
public static class LatencyHistogram
{
    public const int Buckets = 61;

    public static int BucketOf(long durationMs) =>
        durationMs <= 1 ? 0 : Math.Min(Buckets - 1, (int)Math.Ceiling(4 * Math.Log2(durationMs) - 1e-9));

    /// <summary>The bucket's upper bound in whole milliseconds (rounded up).</summary>
    public static long UpperBoundMs(int bucket) => (long)Math.Ceiling(Math.Pow(2, bucket / 4.0) - 1e-9);

    /// <summary>Nearest-rank percentile: the upper bound of the bucket holding the p-th attempt; null without attempts.</summary>
    public static long? Percentile(IReadOnlyList<long> counts, double p)
    {
        var total = counts.Sum();
        if (total == 0) return null;
        var rank = Math.Max(1, (long)Math.Ceiling(p * total));
        long seen = 0;
        for (var k = 0; k < counts.Count; k++)
        {
            seen += counts[k];
            if (seen >= rank) return UpperBoundMs(k);
        }
        return UpperBoundMs(counts.Count - 1);
    }

    /// <summary>The column (and shadow property) that holds bucket <paramref name="k"/>.</summary>
    public static string Property(int k) => $"Latency{k:00}";
}
