using WebhookHub.Core.Delivery;
using WebhookHub.Web.Features.Monitoring;

namespace WebhookHub.Tests.Monitoring;

/// <summary>The dashboard's pure parts: the health rule, the chart's buckets and the in-memory window.</summary>
public sealed class MonitoringLogicTests
{
    private static readonly DateTime Now = new(2026, 11, 29, 10, 7, 30, DateTimeKind.Utc);
    private static readonly Guid Hook = Guid.NewGuid();

    private static WebhookHealth Health(double? rate, long? p95 = 100, bool active = true, int attempts = 100) =>
        new(Hook, "orders", active, attempts, rate, 50, p95, new Dictionary<string, int>(), null, 60);

    private static AttemptRecorded Attempt(DateTime at, AttemptStatus status = AttemptStatus.Success, Guid? webhook = null, Guid? delivery = null, int number = 1) =>
        new(webhook ?? Hook, delivery ?? Guid.NewGuid(), "policy.change.detected", number, status, status == AttemptStatus.Success ? 200 : 500, 42, null, at);

    [Theory]
    [InlineData(1.00, 100, true, 0, HealthState.Healthy)]
    [InlineData(0.995, 100, true, 0, HealthState.Healthy)]
    [InlineData(0.98, 100, true, 0, HealthState.Degraded)]
    [InlineData(1.00, 6000, true, 0, HealthState.Degraded)]
    [InlineData(0.79, 100, true, 0, HealthState.Failing)]
    [InlineData(0.95, 100, true, 5, HealthState.Failing)]
    [InlineData(0.95, 100, true, 4, HealthState.Degraded)]
    [InlineData(0.10, 100, false, 9, HealthState.Disabled)]
    public void Health_rule_reads_rate_streak_latency_and_switch(double rate, long p95, bool active, int streak, HealthState expected)
    {
        var (state, why) = HealthRule.Classify(Health(rate, p95, active), streak);
        Assert.Equal(expected, state);
        Assert.False(string.IsNullOrWhiteSpace(why));
    }

    [Fact]
    public void A_webhook_without_attempts_is_healthy()
    {
        Assert.Equal((HealthState.Healthy, "no attempts"), HealthRule.Classify(Health(null, null, attempts: 0), 0));
    }

    private static PeriodCounts Minute(DateTime at, int succeeded = 1, int failed = 0) => new(Rollup.MinuteOf(at), succeeded, failed);

    private static StatsWindow Loaded(IReadOnlyList<PeriodCounts>? perMinute = null, RollupTotals? totals = null) => new(
        [new WebhookInfo(Hook, "owner", "orders", true)],
        totals is null ? new Dictionary<Guid, RollupTotals>() : new Dictionary<Guid, RollupTotals> { [Hook] = totals },
        perMinute ?? [], [], []);

    [Fact]
    public void Chart_buckets_per_minute_cover_the_whole_window_and_add_up_to_the_totals()
    {
        var window = TimeSpan.FromMinutes(15);
        var minutes = new[]
        {
            Minute(Now.AddMinutes(-15)),                             // the window's first (whole) minute
            Minute(Now.AddSeconds(-5), succeeded: 1, failed: 2),
            Minute(Now.AddMinutes(-16)),                             // outside the window
        };

        var series = Throughput.Build(minutes, Now, window);

        Assert.Equal(TimeSpan.FromMinutes(1), series.Bucket);
        Assert.Equal(16, series.Successes.Length);                   // 09:52 … 10:07
        Assert.Equal(new DateTime(2026, 11, 29, 9, 52, 0, DateTimeKind.Utc), series.FirstBucket);
        Assert.Equal(1, series.Successes[0]);
        Assert.Equal(1, series.Successes[^1]);
        Assert.Equal(2, series.Failures[^1]);
        Assert.Equal((2, 2), (series.TotalSuccesses, series.TotalFailures));
        Assert.Equal("09:52", series.Labels[0]);
        Assert.InRange(series.Labels.Count(l => l.Length > 0), 2, 8);
    }

    [Theory]
    [InlineData("24h", 60, 25, "hour")]
    [InlineData("7d", 60, 169, "hour")]
    [InlineData("30d", 1440, 31, "day")]
    public void Longer_windows_read_and_chart_hours_or_days(string window, int bucketMinutes, int bars, string name)
    {
        var span = DeliveryStats.Windows[window];
        var series = Throughput.Build([new PeriodCounts(Rollup.StartOf(Now.AddHours(-23), bucketMinutes), 1, 0), new PeriodCounts(Rollup.StartOf(Now, bucketMinutes), 1, 0)], Now, span);
        Assert.Equal(TimeSpan.FromMinutes(bucketMinutes), series.Bucket);
        Assert.Equal(name, series.BucketName);
        Assert.Equal(bars, series.Successes.Length);
        Assert.Equal(2, series.TotalSuccesses);
    }

    [Fact]
    public void Events_before_a_load_began_are_in_it_and_events_during_it_are_added_to_it()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        dashboard.Apply(Attempt(Now.AddSeconds(-20)));              // before the load began: its row is in the load
        dashboard.BeginLoad();
        var during = Attempt(Now.AddSeconds(-1));
        Assert.False(dashboard.Apply(during));                      // held until the load arrives
        var loadedTotals = new RollupTotals();
        loadedTotals.Add(Attempt(Now.AddSeconds(-20)));
        dashboard.Load(Loaded([Minute(Now.AddSeconds(-20))], loadedTotals));

        Assert.True(dashboard.Apply(Attempt(Now, AttemptStatus.Failed)));
        var view = dashboard.View(Now);
        Assert.Equal(3, view.Totals.Attempts);
        Assert.Equal((2, 1), (view.Totals.Successes, view.Totals.Failures));
        Assert.Equal(3, view.Throughput.TotalSuccesses + view.Throughput.TotalFailures);
        Assert.Equal(AttemptStatus.Failed, view.Feed[0].Attempt.Status);
        Assert.Single(view.RecentFailures);
        Assert.Equal(500, view.Health[0].Health.LastFailure!.StatusCode);
    }

    [Fact]
    public void An_attempt_in_the_load_that_arrives_during_it_is_counted_and_listed_once()
    {
        // Committed before the load's query, its event (another node's NOTIFY) arrives after the load began.
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        dashboard.BeginLoad();
        var late = Attempt(Now.AddSeconds(-1));
        var afterQuery = Attempt(Now);
        dashboard.Apply(late);
        dashboard.Apply(afterQuery);
        var loadedTotals = new RollupTotals();
        loadedTotals.Add(late);
        dashboard.Load(Loaded([Minute(late.At)], loadedTotals) with { Latest = [late] });

        var view = dashboard.View(Now);
        Assert.Equal(2, view.Totals.Attempts);
        Assert.Equal(2, view.Throughput.TotalSuccesses);
        Assert.Equal([afterQuery, late], view.Feed.Select(f => f.Attempt));
        // Should an event ever come twice, it is still one row: the feed's rows are keyed by attempt.
        dashboard.Apply(afterQuery);
        Assert.Equal(2, dashboard.View(Now).Feed.Count);
    }

    [Fact]
    public void Attempts_of_webhooks_the_viewer_cannot_see_are_ignored()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        var someoneElses = Guid.NewGuid();
        dashboard.BeginLoad();
        dashboard.Apply(Attempt(Now, webhook: someoneElses));       // held during the load, dropped by it
        dashboard.Load(Loaded());

        Assert.False(dashboard.Apply(Attempt(Now, webhook: someoneElses)));
        Assert.Equal(0, dashboard.View(Now).Totals.Attempts);
    }

    [Fact]
    public void Five_failures_since_the_last_success_make_a_mostly_good_webhook_failing_and_switching_it_off_shows_at_once()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromHours(1));
        dashboard.Load(Loaded());
        for (var i = 0; i < 30; i++) dashboard.Apply(Attempt(Now.AddMinutes(-30).AddSeconds(i)));
        for (var i = 0; i < 5; i++) dashboard.Apply(Attempt(Now.AddSeconds(-10 + i), AttemptStatus.Failed));

        var row = Assert.Single(dashboard.View(Now).Health);
        Assert.Equal(HealthState.Failing, row.State);

        dashboard.Apply(new WebhookStateChanged(Hook, "owner", false, false, "receiver gone", Now));
        Assert.Equal(HealthState.Disabled, Assert.Single(dashboard.View(Now).Health).State);
    }

    [Fact]
    public void Minutes_leave_the_chart_as_time_passes()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        dashboard.Load(Loaded([Minute(Now.AddMinutes(-14))]));
        Assert.Equal(1, dashboard.View(Now).Throughput.TotalSuccesses);
        Assert.Equal(0, dashboard.View(Now.AddMinutes(2)).Throughput.TotalSuccesses);
    }
}
