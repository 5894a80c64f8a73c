namespace WebhookHub.Core.Delivery;

/// <summary>
/// One webhook's attempts in one UTC minute, hour or day (table <c>webhook_rollups</c>): what every figure
/// of monitoring, health and the webhooks list is computed from, so that no read loads raw attempts.
/// Each batch of attempts adds to its minute, hour and day rows, in the attempt rows' transaction, through
/// <see cref="Persistence.RollupWriter"/>; counts only ever add up. A window reads the coarsest rows
/// that fit it (<see cref="DeliveryStats.SpanFor"/>): a day is 25 hour rows per webhook, not 1,440
/// minute rows. An attempt is <c>failed</c> only when it was its delivery's last (the delivery is
/// dead-lettered), so failed attempts are the period's dead letters.
/// </summary>
public sealed class Rollup
{
    public const int Minute = 1, Hour = 60, Day = 1440;
    public static readonly int[] Spans = [Minute, Hour, Day];

    public Guid WebhookId { get; set; }

    /// <summary>The period's length in minutes: <see cref="Minute"/>, <see cref="Hour"/> or <see cref="Day"/>.</summary>
    public int SpanMinutes { get; set; }

    /// <summary>The period's start, UTC.</summary>
    public DateTime Start { get; set; }

    public int Succeeded { get; set; }
    public int Retrying { get; set; }
    public int Failed { get; set; }
    public long DurationSumMs { get; set; }

    /// <summary>Attempts per latency bucket (<see cref="LatencyHistogram"/>); stored as one column per bucket.</summary>
    public int[] Latency { get; init; } = new int[LatencyHistogram.Buckets];

    public int Attempts => Succeeded + Retrying + Failed;

    public static DateTime StartOf(DateTime at, int spanMinutes)
    {
        var ticks = spanMinutes * TimeSpan.TicksPerMinute;
        return new DateTime(at.Ticks - at.Ticks % ticks, DateTimeKind.Utc);
    }

    public static DateTime MinuteOf(DateTime at) => StartOf(at, Minute);

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

    /// <summary>Adds an attempt to its minute, hour and day rows in <paramref name="rows"/>.</summary>
    public static void AddTo(Dictionary<(Guid, int, DateTime), Rollup> rows, Guid webhookId, DateTime at, AttemptStatus status, long durationMs)
    {
        foreach (var span in Spans)
        {
            var start = StartOf(at, span);
            if (!rows.TryGetValue((webhookId, span, start), out var rollup))
                rows[(webhookId, span, start)] = rollup = new Rollup { WebhookId = webhookId, SpanMinutes = span, Start = start };
            rollup.Add(status, durationMs);
        }
    }

    /// <summary>The rows a batch of attempts adds to: one upsert per webhook and period, whatever the batch's size.</summary>
    public static List<Rollup> Of(IEnumerable<DeliveryAttempt> attempts)
    {
        var rows = new Dictionary<(Guid, int, DateTime), Rollup>();
        foreach (var a in attempts) AddTo(rows, a.WebhookId, a.CreatedAt, a.Status, a.DurationMs);
        return rows.Values.ToList();
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
