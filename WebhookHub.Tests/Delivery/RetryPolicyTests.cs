using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Tests.Delivery;

public sealed class RetryPolicyTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 29, 7, 0, 0, TimeSpan.Zero));

    private static RetryPolicy Policy(int[]? delays = null, int maxRetryAfter = 300)
    {
        var options = new WebhookHubOptions();
        if (delays is not null) options.Delivery.RetryDelaysSeconds = delays;
        options.Delivery.MaxRetryAfterSeconds = maxRetryAfter;
        return new RetryPolicy(Options.Create(options), Time);
    }

    private static AttemptOutcome.Failed Retryable(TimeSpan? retryAfter = null) => new("HTTP 503", 503, null, 5, true, retryAfter);

    [Fact]
    public void Default_schedule_is_1_2_4_8_16_seconds_then_gives_up_after_six_attempts()
    {
        var policy = Policy();
        Assert.Equal(6, policy.AttemptsPerBudget);
        var delays = Enumerable.Range(1, 6).Select(n => policy.NextDelay(Retryable(), n)).ToList();
        Assert.Equal([1, 2, 4, 8, 16], delays.Take(5).Select(d => d!.Value.TotalSeconds));
        Assert.Null(delays[5]);
    }

    [Fact]
    public void Schedule_comes_from_configuration()
    {
        var policy = Policy([3, 5]);
        Assert.Equal(TimeSpan.FromSeconds(3), policy.NextDelay(Retryable(), 1));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.NextDelay(Retryable(), 2));
        Assert.Null(policy.NextDelay(Retryable(), 3));
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(599, true)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(410, false)]
    [InlineData(301, false)]
    [InlineData(302, false)]
    public void Only_5xx_408_and_429_answers_are_retryable(int status, bool retryable) =>
        Assert.Equal(retryable, RetryPolicy.IsRetryable(status));

    [Fact]
    public void Success_and_final_failures_are_not_retried()
    {
        var policy = Policy();
        Assert.Null(policy.NextDelay(new AttemptOutcome.Succeeded(200, null, 3), 1));
        Assert.Null(policy.NextDelay(new AttemptOutcome.Failed("HTTP 404", 404, null, 3, false), 1));
    }

    [Fact]
    public void Retry_after_seconds_is_honoured_but_never_shortens_the_schedule_and_is_capped()
    {
        var policy = Policy(maxRetryAfter: 60);
        Assert.Equal(TimeSpan.FromSeconds(2), policy.NextDelay(Retryable(TimeSpan.FromSeconds(2)), 1));
        Assert.Equal(TimeSpan.FromSeconds(4), policy.NextDelay(Retryable(TimeSpan.FromSeconds(1)), 3));
        Assert.Equal(TimeSpan.FromSeconds(60), policy.NextDelay(Retryable(TimeSpan.FromHours(1)), 1));
    }

    [Fact]
    public void Retry_after_reads_seconds_and_http_dates_against_the_clock()
    {
        var policy = Policy();
        Assert.Equal(TimeSpan.FromSeconds(7), policy.RetryAfter(RetryConditionHeaderValue.Parse("7")));
        var date = Time.GetUtcNow().AddSeconds(30).ToString("R");
        Assert.Equal(TimeSpan.FromSeconds(30), policy.RetryAfter(RetryConditionHeaderValue.Parse(date)));
        var past = Time.GetUtcNow().AddSeconds(-30).ToString("R");
        Assert.Equal(TimeSpan.Zero, policy.RetryAfter(RetryConditionHeaderValue.Parse(past)));
        Assert.Null(policy.RetryAfter(null));
    }
}
