using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Features.Monitoring;

public sealed record Totals(int Attempts, int DeadLetters, int Successes, int Failures, double? SuccessRate, long? P50Ms, long? P95Ms);

public sealed record HealthRow(WebhookHealth Health, HealthState State, string Why);

public sealed record FeedItem(AttemptRecorded Attempt, string WebhookName);

public sealed record DashboardView(
    Totals Totals, IReadOnlyList<HealthRow> Health, ThroughputSeries Throughput, IReadOnlyList<FeedItem> Feed, IReadOnlyList<FeedItem> RecentFailures);

/// <summary>
/// One dashboard's window as rollups kept in memory: per-webhook totals and histograms, and counts per
/// period (the chart's bars), loaded from <c>webhook_rollups</c> (never from raw attempts), then every notifier
/// event is added at once, so no count is lost however fast they come; a view is computed only when
/// the page renders. A reload replaces everything: events that arrive while it runs are kept and added
/// on top (see <see cref="BeginLoad"/>). Not thread-safe: the page guards it with a lock.
/// </summary>
public sealed class LiveDashboard(TimeSpan window)
{
    public const int FeedSize = 15;
    public const int FailureListSize = 6;

    private Dictionary<Guid, WebhookInfo> _webhooks = [];
    private Dictionary<Guid, RollupTotals> _totals = [];
    private SortedDictionary<DateTime, (int Succeeded, int Failed)> _perPeriod = [];
    private List<AttemptRecorded> _feed = [];
    private List<AttemptRecorded> _failures = [];
    private readonly List<AttemptRecorded> _sinceLoadBegan = [];
    private bool _loaded, _loading;

    public TimeSpan Window => window;

    /// <summary>
    /// Called (under the page's lock) just before a reload's query. Events published before it were
    /// committed before it, so the query sees them; events from now on are held and added to the
    /// load, except those the load already has. An attempt committed just before the query but
    /// published during it (the time between a commit and its publish: microseconds on this node,
    /// a NOTIFY's trip from another) is in the load's latest attempts, which are read before its
    /// totals (<see cref="DeliveryStats.LoadAsync"/>), so it is not added twice. Only when more
    /// attempts than those lists hold are committed in that window can one be counted twice, until
    /// the next minute's reload.
    /// </summary>
    public void BeginLoad()
    {
        _sinceLoadBegan.Clear();
        _loading = true;
    }

    public void Load(StatsWindow loaded)
    {
        _webhooks = loaded.Webhooks.ToDictionary(w => w.Id);
        _totals = _webhooks.Keys.ToDictionary(id => id, id => loaded.Totals.GetValueOrDefault(id) ?? new RollupTotals());
        _perPeriod = new SortedDictionary<DateTime, (int, int)>(loaded.PerPeriod.ToDictionary(m => m.Start, m => (m.Succeeded, m.Failed)));
        _feed = loaded.Latest.Reverse().ToList();
        _failures = loaded.LatestFailures.Reverse().ToList();
        _loaded = true;
        _loading = false;
        var inLoad = loaded.Latest.Concat(loaded.LatestFailures).Select(Key).ToHashSet();
        foreach (var attempt in _sinceLoadBegan)
            if (!inLoad.Contains(Key(attempt))) Add(attempt);
        _sinceLoadBegan.Clear();
    }

    /// <summary>True when the attempt changes what this dashboard shows (a visible webhook).</summary>
    public bool Apply(AttemptRecorded attempt)
    {
        if (_loading) _sinceLoadBegan.Add(attempt);
        return _loaded && Add(attempt);
    }

    public bool Apply(WebhookStateChanged change)
    {
        if (!_webhooks.TryGetValue(change.WebhookId, out var webhook)) return false;
        if (change.Deleted) _webhooks.Remove(change.WebhookId);
        else _webhooks[change.WebhookId] = webhook with { IsActive = change.IsActive };
        return true;
    }

    private bool Add(AttemptRecorded attempt)
    {
        if (!_totals.TryGetValue(attempt.WebhookId, out var totals)) return false;
        totals.Add(attempt);
        var period = Rollup.StartOf(attempt.At, DeliveryStats.SpanFor(window));
        var (succeeded, failed) = _perPeriod.GetValueOrDefault(period);
        _perPeriod[period] = attempt.Status == AttemptStatus.Success ? (succeeded + 1, failed) : (succeeded, failed + 1);
        Push(_feed, attempt, FeedSize);
        if (attempt.Status != AttemptStatus.Success) Push(_failures, attempt, FailureListSize);
        return true;
    }

    private static (Guid, int) Key(AttemptRecorded attempt) => (attempt.DeliveryId, attempt.AttemptNumber);

    /// <summary>An attempt is a row of the feed once: the rows are keyed by it, and a repeated key ends the page's circuit.</summary>
    private static void Push(List<AttemptRecorded> oldestFirst, AttemptRecorded attempt, int keep)
    {
        if (oldestFirst.Exists(a => Key(a) == Key(attempt))) return;
        oldestFirst.Add(attempt);
        if (oldestFirst.Count > keep) oldestFirst.RemoveRange(0, oldestFirst.Count - keep);
    }

    public DashboardView View(DateTime now)
    {
        var since = DeliveryStats.Since(now, window);
        // Totals leave the window at the next minute's reload; the chart's periods go at once.
        foreach (var old in _perPeriod.Keys.TakeWhile(m => m < since).ToList()) _perPeriod.Remove(old);
        var live = _webhooks.Values.OrderBy(w => w.Name).Select(w => (Webhook: w, Totals: _totals.GetValueOrDefault(w.Id) ?? new RollupTotals())).ToList();

        var all = new RollupTotals();
        foreach (var (_, t) in live)
        {
            all.Succeeded += t.Succeeded; all.Retrying += t.Retrying; all.Failed += t.Failed; all.DurationSumMs += t.DurationSumMs;
            for (var k = 0; k < t.Latency.Length; k++) all.Latency[k] += t.Latency[k];
        }
        var totals = new Totals(all.Attempts, all.Failed, all.Succeeded, all.Attempts - all.Succeeded,
            all.Attempts == 0 ? null : (double)all.Succeeded / all.Attempts,
            LatencyHistogram.Percentile(all.Latency, 0.50), LatencyHistogram.Percentile(all.Latency, 0.95));

        var health = live.Select(x =>
        {
            var h = x.Totals.ToHealth(x.Webhook);
            var (state, why) = HealthRule.Classify(h, x.Totals.TrailingFailures);
            return new HealthRow(h, state, why);
        }).ToList();

        IEnumerable<FeedItem> NewestFirst(List<AttemptRecorded> oldestFirst) => Enumerable.Reverse(oldestFirst)
            .Where(a => a.At >= since && _webhooks.ContainsKey(a.WebhookId))
            .Select(a => new FeedItem(a, _webhooks[a.WebhookId].Name));
        return new DashboardView(totals, health, Throughput.Build(_perPeriod.Select(m => new PeriodCounts(m.Key, m.Value.Succeeded, m.Value.Failed)), now, window),
            NewestFirst(_feed).ToList(), NewestFirst(_failures).ToList());
    }
}
