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

    [Fact]
    public void Chart_buckets_per_minute_cover_the_whole_window_and_add_up_to_the_totals()
    {
        var window = TimeSpan.FromMinutes(15);
        var attempts = new[]
        {
            Attempt(Now.AddMinutes(-15).AddSeconds(1)),              // the oldest, partial minute
            Attempt(Now.AddSeconds(-5)), Attempt(Now.AddSeconds(-4), AttemptStatus.Failed), Attempt(Now.AddSeconds(-3), AttemptStatus.Retrying),
            Attempt(Now.AddMinutes(-16)),                            // outside the window
        };

        var series = Throughput.Build(attempts, Now, window);

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

    [Fact]
    public void A_day_is_charted_in_half_hours()
    {
        var series = Throughput.Build([Attempt(Now.AddHours(-23))], Now, TimeSpan.FromHours(24));
        Assert.Equal(TimeSpan.FromMinutes(30), series.Bucket);
        Assert.Equal(49, series.Successes.Length);
        Assert.Equal(1, series.TotalSuccesses);
    }

    [Fact]
    public void Every_event_counts_once_even_when_a_reload_already_has_it()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        var early = Attempt(Now.AddSeconds(-20));
        var during = Attempt(Now.AddSeconds(-1));
        dashboard.Apply(early);                                     // before the first load: held
        dashboard.Apply(during);
        dashboard.Load(new StatsWindow([new WebhookInfo(Hook, "owner", "orders", true)], [early]), Now.AddSeconds(-2));

        Assert.False(dashboard.Apply(during));                      // a repeat changes nothing
        Assert.True(dashboard.Apply(Attempt(Now, AttemptStatus.Failed)));
        var view = dashboard.View(Now);
        Assert.Equal(3, view.Totals.Attempts);
        Assert.Equal((2, 1), (view.Totals.Successes, view.Totals.Failures));
        Assert.Equal(AttemptStatus.Failed, view.Feed[0].Attempt.Status);
        Assert.Single(view.RecentFailures);
    }

    [Fact]
    public void Attempts_of_webhooks_the_viewer_cannot_see_are_ignored()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        var someoneElses = Guid.NewGuid();
        dashboard.Apply(Attempt(Now, webhook: someoneElses));       // held before the load, dropped by it
        dashboard.Load(new StatsWindow([new WebhookInfo(Hook, "owner", "orders", true)], []), Now);

        Assert.False(dashboard.Apply(Attempt(Now, webhook: someoneElses)));
        Assert.Equal(0, dashboard.View(Now).Totals.Attempts);
    }

    [Fact]
    public void Five_failures_in_a_row_make_a_mostly_good_webhook_failing_and_switching_it_off_shows_at_once()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromHours(1));
        dashboard.Load(new StatsWindow([new WebhookInfo(Hook, "owner", "orders", true)], []), Now);
        for (var i = 0; i < 30; i++) dashboard.Apply(Attempt(Now.AddMinutes(-30).AddSeconds(i)));
        for (var i = 0; i < 5; i++) dashboard.Apply(Attempt(Now.AddSeconds(-10 + i), AttemptStatus.Failed));

        var row = Assert.Single(dashboard.View(Now).Health);
        Assert.Equal(HealthState.Failing, row.State);

        dashboard.Apply(new WebhookStateChanged(Hook, "owner", false, false, "receiver gone", Now));
        Assert.Equal(HealthState.Disabled, Assert.Single(dashboard.View(Now).Health).State);
    }

    [Fact]
    public void Attempts_leave_the_window_as_time_passes()
    {
        var dashboard = new LiveDashboard(TimeSpan.FromMinutes(15));
        dashboard.Load(new StatsWindow([new WebhookInfo(Hook, "owner", "orders", true)], [Attempt(Now.AddMinutes(-14))]), Now);
        Assert.Equal(1, dashboard.View(Now).Totals.Attempts);
        Assert.Equal(0, dashboard.View(Now.AddMinutes(2)).Totals.Attempts);
    }
}
