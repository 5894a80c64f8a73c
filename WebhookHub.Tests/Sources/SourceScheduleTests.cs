using WebhookHub.Core.Sources;

namespace WebhookHub.Tests.Sources;

public sealed class SourceScheduleTests
{
    private static readonly DateTime Now = new(2026, 12, 2, 9, 0, 0, DateTimeKind.Utc);

    private static Source Every(int seconds, string? cron = null) =>
        new() { Name = "s", Url = "https://example.gov/p", Route = "r", IntervalSeconds = seconds, Cron = cron };

    [Fact]
    public void A_healthy_source_is_due_one_interval_later()
    {
        Assert.Equal(Now.AddMinutes(10), SourceSchedule.Next(Every(600), Now, failures: 0, retryAfter: null));
    }

    [Fact]
    public void Failures_double_the_wait_up_to_a_day()
    {
        Assert.Equal(Now.AddMinutes(20), SourceSchedule.Next(Every(600), Now, 1, null));
        Assert.Equal(Now.AddMinutes(80), SourceSchedule.Next(Every(600), Now, 3, null));
        Assert.Equal(Now.AddHours(24), SourceSchedule.Next(Every(600), Now, 12, null));
        Assert.Equal(Now.AddHours(24), SourceSchedule.Next(Every(3600), Now, 40, null));
    }

    [Fact]
    public void Retry_after_is_honoured_when_longer_than_the_backoff_and_capped_at_a_day()
    {
        Assert.Equal(Now.AddHours(2), SourceSchedule.Next(Every(600), Now, 1, TimeSpan.FromHours(2)));
        Assert.Equal(Now.AddMinutes(20), SourceSchedule.Next(Every(600), Now, 1, TimeSpan.FromMinutes(5)));
        Assert.Equal(Now.AddHours(24), SourceSchedule.Next(Every(600), Now, 1, TimeSpan.FromDays(3)));
    }

    [Fact]
    public void A_cron_is_read_in_utc_with_or_without_seconds()
    {
        Assert.Equal(new DateTime(2026, 12, 2, 12, 0, 0, DateTimeKind.Utc), SourceSchedule.Next(Every(60, "0 */6 * * *"), Now, 0, null));
        Assert.Equal(new DateTime(2026, 12, 2, 9, 0, 30, DateTimeKind.Utc), SourceSchedule.Next(Every(60, "30 * * * * *"), Now, 0, null));
        // A rarer-than-a-day cron is never checked earlier than it asks, whatever the backoff cap.
        var weekly = Every(60, "0 6 * * 1");
        Assert.Equal(new DateTime(2026, 12, 7, 6, 0, 0, DateTimeKind.Utc), SourceSchedule.Next(weekly, Now, 5, null));
    }

    [Theory]
    [InlineData("0 */6 * * *", null)]
    [InlineData("30 0 */6 * * *", null)]
    [InlineData("* * * * *", null)]
    [InlineData("every day", "5 fields")]
    [InlineData("61 * * * *", "not a valid cron")]
    [InlineData("*/10 * * * * *", "at most every 60 s")]
    [InlineData("0 0 30 2 *", "never fires")]
    public void Cron_errors_say_what_is_wrong(string cron, string? error)
    {
        var found = SourceSchedule.CronError(cron, minIntervalSeconds: 60, Now);
        if (error is null) Assert.Null(found);
        else Assert.Contains(error, found);
    }
}
