using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Features.Monitoring;

public sealed record Totals(int Attempts, int Deliveries, int Successes, int Failures, double? SuccessRate, long? P50Ms, long? P95Ms);

public sealed record HealthRow(WebhookHealth Health, HealthState State, string Why);

public sealed record FeedItem(AttemptRecorded Attempt, string WebhookName);

public sealed record DashboardView(
    Totals Totals, IReadOnlyList<HealthRow> Health, ThroughputSeries Throughput, IReadOnlyList<FeedItem> Feed, IReadOnlyList<FeedItem> RecentFailures);

/// <summary>
/// One dashboard's window of attempts, kept in memory: loaded from the database, then every notifier
/// event is applied at once (so no count is lost however fast they come), and a view is computed only
/// when the page renders. Not thread-safe: the page guards it with a lock.
/// </summary>
public sealed class LiveDashboard(TimeSpan window)
{
    public const int FeedSize = 15;
    public const int FailureListSize = 6;

    /// <summary>How far back a reload keeps attempts it may have missed: rows are saved shortly before their event is published.</summary>
    private static readonly TimeSpan LoadSlack = TimeSpan.FromSeconds(30);

    private Dictionary<Guid, WebhookInfo> _webhooks = [];
    private List<AttemptRecorded> _attempts = [];
    private HashSet<(Guid, int)> _seen = [];
    private bool _loaded;

    public TimeSpan Window => window;

    /// <summary>
    /// Takes a fresh load. Attempts applied while the query ran may be missing from it, so recent ones
    /// not in it are kept; before the first load nothing is known to be visible, so everything is held
    /// until the load says which webhooks count.
    /// </summary>
    public void Load(StatsWindow loaded, DateTime loadStartedAt)
    {
        _webhooks = loaded.Webhooks.ToDictionary(w => w.Id);
        var seen = loaded.Attempts.Select(Key).ToHashSet();
        var attempts = loaded.Attempts.ToList();
        attempts.AddRange(_attempts.Where(a => a.At >= loadStartedAt - LoadSlack && _webhooks.ContainsKey(a.WebhookId) && seen.Add(Key(a))));
        _attempts = attempts.OrderBy(a => a.At).ToList();
        _seen = seen;
        _loaded = true;
    }

    /// <summary>True when the attempt changes what this dashboard shows (a visible webhook, not seen before).</summary>
    public bool Apply(AttemptRecorded attempt)
    {
        if (_loaded && !_webhooks.ContainsKey(attempt.WebhookId)) return false;
        if (!_seen.Add(Key(attempt))) return false;
        _attempts.Add(attempt);
        return true;
    }

    public bool Apply(WebhookStateChanged change)
    {
        if (!_webhooks.TryGetValue(change.WebhookId, out var webhook)) return false;
        if (change.Deleted) _webhooks.Remove(change.WebhookId);
        else _webhooks[change.WebhookId] = webhook with { IsActive = change.IsActive };
        return true;
    }

    public DashboardView View(DateTime now)
    {
        var since = now - window;
        _attempts.RemoveAll(a => a.At < since);
        var attempts = _attempts.Where(a => _webhooks.ContainsKey(a.WebhookId)).ToList();
        var durations = attempts.Select(a => a.DurationMs).Order().ToArray();
        var successes = attempts.Count(a => a.Status == AttemptStatus.Success);
        var totals = new Totals(attempts.Count, attempts.Select(a => a.DeliveryId).Distinct().Count(), successes, attempts.Count - successes,
            attempts.Count == 0 ? null : (double)successes / attempts.Count,
            DeliveryStats.Percentile(durations, 0.50), DeliveryStats.Percentile(durations, 0.95));

        var byWebhook = attempts.ToLookup(a => a.WebhookId);
        var health = DeliveryStats.Summarize(_webhooks.Values.OrderBy(w => w.Name), attempts)
            .Select(h =>
            {
                var (state, why) = HealthRule.Classify(h, TrailingFailures(byWebhook[h.WebhookId]));
                return new HealthRow(h, state, why);
            })
            .ToList();

        var newestFirst = Enumerable.Reverse(attempts).Select(a => new FeedItem(a, _webhooks[a.WebhookId].Name));
        return new DashboardView(totals, health, Throughput.Build(attempts, now, window),
            newestFirst.Take(FeedSize).ToList(),
            newestFirst.Where(f => f.Attempt.Status != AttemptStatus.Success).Take(FailureListSize).ToList());
    }

    private static int TrailingFailures(IEnumerable<AttemptRecorded> oldestFirst) =>
        oldestFirst.Reverse().TakeWhile(a => a.Status != AttemptStatus.Success).Count();

    private static (Guid, int) Key(AttemptRecorded a) => (a.DeliveryId, a.AttemptNumber);
}
