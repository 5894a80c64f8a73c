using System.Globalization;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Features.Monitoring;

/// <summary>Successful and failed attempts per bucket, oldest bucket first; the labels are sparse so they stay readable.</summary>
public sealed record ThroughputSeries(TimeSpan Bucket, DateTime FirstBucket, double[] Successes, double[] Failures, string[] Labels)
{
    public int TotalSuccesses => (int)Successes.Sum();
    public int TotalFailures => (int)Failures.Sum();

    public string BucketName => Bucket == TimeSpan.FromMinutes(1) ? "minute" : Bucket == TimeSpan.FromHours(1) ? "hour" : "day";
}

public static class Throughput
{
    private const int MaxLabels = 8;

    /// <summary>The window's rollup period: minutes up to an hour (16 or 61 bars), hours up to a week (25 or 169), days beyond (31 for 30 days).</summary>
    public static TimeSpan BucketFor(TimeSpan window) => TimeSpan.FromMinutes(DeliveryStats.SpanFor(window));

    /// <summary>
    /// Buckets aligned to the clock (UTC), from the one holding the window's first minute to the current
    /// one: one bar per rollup period of the window, so the bars add up to the totals.
    /// </summary>
    public static ThroughputSeries Build(IEnumerable<PeriodCounts> periods, DateTime now, TimeSpan window)
    {
        var bucket = BucketFor(window);
        var since = DeliveryStats.Since(now, window);
        var first = Floor(since, bucket);
        var count = (int)((Floor(now, bucket) - first) / bucket) + 1;
        var successes = new double[count];
        var failures = new double[count];
        foreach (var m in periods)
        {
            if (m.Start < since) continue;
            var index = Math.Clamp((int)((m.Start - first) / bucket), 0, count - 1);
            successes[index] += m.Succeeded;
            failures[index] += m.Failed;
        }
        var format = bucket >= TimeSpan.FromDays(1) ? "MMM d" : window > TimeSpan.FromDays(1) ? "MMM d HH:mm" : "HH:mm";
        var every = (int)Math.Ceiling(count / (double)MaxLabels);
        var labels = Enumerable.Range(0, count)
            .Select(i => i % every == 0 ? (first + i * bucket).ToString(format, CultureInfo.InvariantCulture) : "")
            .ToArray();
        return new ThroughputSeries(bucket, first, successes, failures, labels);
    }

    private static DateTime Floor(DateTime at, TimeSpan bucket) => new(at.Ticks - at.Ticks % bucket.Ticks, at.Kind);
}
