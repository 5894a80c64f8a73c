using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Features.Monitoring;

/// <summary>Successful and failed attempts per bucket, oldest bucket first; the labels are sparse so they stay readable.</summary>
public sealed record ThroughputSeries(TimeSpan Bucket, DateTime FirstBucket, double[] Successes, double[] Failures, string[] Labels)
{
    public int TotalSuccesses => (int)Successes.Sum();
    public int TotalFailures => (int)Failures.Sum();
}

public static class Throughput
{
    private const int MaxLabels = 8;

    /// <summary>A minute for 15 min and 1 h (15 or 60 bars); half an hour for a day (48 bars, not 1440).</summary>
    public static TimeSpan BucketFor(TimeSpan window) => window <= TimeSpan.FromHours(1) ? TimeSpan.FromMinutes(1) : TimeSpan.FromMinutes(30);

    /// <summary>
    /// Buckets aligned to the clock, from the one holding <c>now - window</c> to the current one, so
    /// every attempt in the window lands in a bar and the bars add up to the totals.
    /// </summary>
    public static ThroughputSeries Build(IEnumerable<AttemptRecorded> attempts, DateTime now, TimeSpan window)
    {
        var bucket = BucketFor(window);
        var first = Floor(now - window, bucket);
        var count = (int)((Floor(now, bucket) - first) / bucket) + 1;
        var successes = new double[count];
        var failures = new double[count];
        foreach (var a in attempts)
        {
            if (a.At < now - window) continue;
            var index = Math.Clamp((int)((a.At - first) / bucket), 0, count - 1);
            if (a.Status == AttemptStatus.Success) successes[index]++;
            else failures[index]++;
        }
        var every = (int)Math.Ceiling(count / (double)MaxLabels);
        var labels = Enumerable.Range(0, count)
            .Select(i => i % every == 0 ? (first + i * bucket).ToString("HH:mm") : "")
            .ToArray();
        return new ThroughputSeries(bucket, first, successes, failures, labels);
    }

    private static DateTime Floor(DateTime at, TimeSpan bucket) => new(at.Ticks - at.Ticks % bucket.Ticks, at.Kind);
}
