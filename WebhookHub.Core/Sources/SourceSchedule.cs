using Cronos;

namespace WebhookHub.Core.Sources;

/// <summary>
/// When a source is checked next: its interval after now, or its cron's next occurrence (UTC); after failures or a
/// server's 429/503, later (see <see cref="Next"/>). The time is data on the source row (<see cref="Source.NextCheckAt"/>),
/// which the schedule's sweep (<see cref="SourceCheckJobs.EnqueueDueAsync"/>) reads.
/// </summary>
public static class SourceSchedule
{
    /// <summary>However many failures, a source is looked at again at least once a day (unless its own schedule is rarer).</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(24);

    /// <summary>How many of a cron's next occurrences are looked at to find its shortest gap.</summary>
    private const int GapSamples = 20;

    /// <summary>Cronos' parse of 5 fields (minute first) or 6 (seconds first), as Hangfire reads them; throws <see cref="CronFormatException"/>.</summary>
    public static CronExpression ParseCron(string cron)
    {
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(cron.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    /// <summary>Null when <paramref name="cron"/> is usable: 5 or 6 fields, fires, and never more often than <paramref name="minIntervalSeconds"/>.</summary>
    public static string? CronError(string cron, int minIntervalSeconds, DateTime now)
    {
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
            return "cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. \"0 */6 * * *\".";
        CronExpression expression;
        try
        {
            expression = ParseCron(cron);
        }
        catch (CronFormatException e)
        {
            return $"cron is not a valid cron expression: {e.Message}";
        }
        var occurrences = expression.GetOccurrences(now, now.AddYears(5), TimeZoneInfo.Utc, fromInclusive: false).Take(GapSamples + 1).ToList();
        if (occurrences.Count == 0) return "cron never fires (in the next five years).";
        var shortest = occurrences.Zip(occurrences.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.MaxValue).Min();
        return shortest < TimeSpan.FromSeconds(minIntervalSeconds)
            ? $"cron fires every {shortest.TotalSeconds:0} s at times; sources may be checked at most every {minIntervalSeconds} s (WebhookHub:Sources:MinIntervalSeconds)."
            : null;
    }

    /// <summary>The regular check after <paramref name="from"/>; null when the cron fires no more.</summary>
    public static DateTime? Regular(Source source, DateTime from) =>
        source.Cron is { } cron
            ? ParseCron(cron).GetNextOccurrence(DateTime.SpecifyKind(from, DateTimeKind.Utc), TimeZoneInfo.Utc)
            : from.AddSeconds(Math.Max(1, source.IntervalSeconds));

    /// <summary>
    /// The next check after one at <paramref name="now"/>: the regular time when all went well; after
    /// <paramref name="failures"/> consecutive failures the regular gap × 2^failures, capped at <see cref="MaxBackoff"/>;
    /// never before the server's <paramref name="retryAfter"/> (also capped), and never before the regular time.
    /// </summary>
    public static DateTime? Next(Source source, DateTime now, int failures, TimeSpan? retryAfter)
    {
        if (Regular(source, now) is not { } regular) return null;
        if (failures <= 0 && retryAfter is null) return regular;
        var gap = regular - now;
        var backoff = failures <= 0 ? gap : TimeSpan.FromTicks((long)Math.Min(MaxBackoff.Ticks, gap.Ticks * Math.Pow(2, Math.Min(failures, 30))));
        var wait = retryAfter is { } after && after > backoff ? (after < MaxBackoff ? after : MaxBackoff) : backoff;
        var next = now + wait;
        return next > regular ? next : regular;
    }
}
