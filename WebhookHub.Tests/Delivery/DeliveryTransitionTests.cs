using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;

namespace WebhookHub.Tests.Delivery;

/// <summary>
/// What an attempt's outcome makes of its delivery, without a database: <see cref="DeliveryTransition.Of"/> on its own,
/// and with the delay the recorder gets from <see cref="RetryPolicy"/> (default schedule 1, 2, 4, 8, 16 s).
/// </summary>
public sealed class DeliveryTransitionTests
{
    private static readonly DateTime Now = new(2026, 11, 29, 7, 0, 0, DateTimeKind.Utc);
    private static readonly RetryPolicy Policy = new(Options.Create(new WebhookHubOptions()), new FakeTimeProvider(new DateTimeOffset(Now)));

    private static readonly AttemptOutcome Ok = new AttemptOutcome.Succeeded(200, "ok", 12);
    private static AttemptOutcome.Failed Unavailable(TimeSpan? retryAfter = null) => new("HTTP 503 Service Unavailable", 503, "down", 30, true, retryAfter);
    private static readonly AttemptOutcome.Failed BadRequest = new("HTTP 400 Bad Request", 400, "no", 8, false);
    private static readonly AttemptOutcome.Failed TimedOut = new("Timed out after 30 s", null, null, 30_000, true);

    private static Core.Delivery.Delivery Delivery(int attempts = 0, int budgetStartsAfter = 0, AttemptTrigger budgetTrigger = AttemptTrigger.Scheduled) => new()
    {
        Id = Guid.NewGuid(),
        WebhookId = Guid.NewGuid(),
        EventId = "evt_1",
        EventType = EventTypes.PolicyChangeDetected,
        Status = attempts == 0 ? DeliveryStatus.Pending : DeliveryStatus.Retrying,
        AttemptCount = attempts,
        BudgetStartsAfterAttempt = budgetStartsAfter,
        BudgetTrigger = budgetTrigger,
        CreatedAt = Now.AddMinutes(-1),
        UpdatedAt = Now.AddMinutes(-1),
    };

    /// <summary>What the recorder does: the policy's delay for this attempt's place in its budget, then the transition.</summary>
    private static DeliveryTransition Record(Core.Delivery.Delivery delivery, AttemptOutcome outcome) =>
        DeliveryTransition.Of(delivery, outcome, Policy.NextDelay(outcome, DeliveryTransition.AttemptInBudget(delivery)), Now);

    [Fact]
    public void Success_delivers_and_schedules_nothing()
    {
        var delivery = Delivery();
        var t = Record(delivery, Ok);

        Assert.Equal((1, AttemptStatus.Success, DeliveryStatus.Success, AttemptTrigger.Scheduled), (t.AttemptNumber, t.Status, t.DeliveryStatus, t.Trigger));
        Assert.Null(t.NextAttemptAt);
        Assert.Null(t.Error);

        t.ApplyTo(delivery);
        Assert.Equal((1, DeliveryStatus.Success, Now, 200, null, null, Now),
            (delivery.AttemptCount, delivery.Status, delivery.LastAttemptAt, delivery.LastStatusCode, delivery.LastError, delivery.NextAttemptAt, delivery.UpdatedAt));
    }

    [Fact]
    public void Retryable_failure_with_budget_left_retries_on_the_schedule()
    {
        var delivery = Delivery(attempts: 2);
        var t = Record(delivery, Unavailable());

        Assert.Equal(3, t.AttemptNumber);
        Assert.Equal(AttemptStatus.Retrying, t.Status);
        Assert.Equal(DeliveryStatus.Retrying, t.DeliveryStatus);
        Assert.Equal(Now + TimeSpan.FromSeconds(4), t.NextAttemptAt); // third attempt: the schedule's third delay
        Assert.Equal("HTTP 503 Service Unavailable", t.Error);
    }

    [Fact]
    public void A_timeout_is_retried_like_a_5xx()
    {
        var t = Record(Delivery(), TimedOut);
        Assert.Equal(AttemptStatus.Retrying, t.Status);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), t.NextAttemptAt);
        Assert.Null(t.Outcome.StatusCode);
    }

    [Fact]
    public void Retryable_failure_on_the_last_attempt_of_the_budget_dead_letters()
    {
        var delivery = Delivery(attempts: 5); // the sixth attempt is the budget's last
        var t = Record(delivery, Unavailable());

        Assert.Equal(6, t.AttemptNumber);
        Assert.Equal(AttemptStatus.Failed, t.Status);
        Assert.Equal(DeliveryStatus.Failed, t.DeliveryStatus);
        Assert.Null(t.NextAttemptAt);

        t.ApplyTo(delivery);
        Assert.Equal((6, DeliveryStatus.Failed, "HTTP 503 Service Unavailable", 503), (delivery.AttemptCount, delivery.Status, delivery.LastError, delivery.LastStatusCode));
    }

    [Fact]
    public void A_4xx_is_final_on_the_first_attempt()
    {
        var t = Record(Delivery(), BadRequest);
        Assert.Equal((1, AttemptStatus.Failed, DeliveryStatus.Failed), (t.AttemptNumber, t.Status, t.DeliveryStatus));
        Assert.Null(t.NextAttemptAt);
        Assert.Equal("HTTP 400 Bad Request", t.Error);
    }

    [Fact]
    public void Retry_After_longer_than_the_schedule_sets_the_next_attempt()
    {
        var t = Record(Delivery(), Unavailable(retryAfter: TimeSpan.FromSeconds(120)));
        Assert.Equal(Now + TimeSpan.FromSeconds(120), t.NextAttemptAt);
    }

    [Fact]
    public void The_delay_given_is_the_delay_used()
    {
        var t = DeliveryTransition.Of(Delivery(), Unavailable(), TimeSpan.FromMilliseconds(1500), Now);
        Assert.Equal(Now.AddMilliseconds(1500), t.NextAttemptAt);
    }

    [Fact]
    public void No_delay_means_no_retry_whatever_the_outcome_says()
    {
        // A test send passes no delay: its retryable failure is final at once.
        var t = DeliveryTransition.Of(Delivery(), Unavailable(), null, Now);
        Assert.Equal(AttemptStatus.Failed, t.Status);
        Assert.Null(t.NextAttemptAt);
    }

    [Fact]
    public void A_manual_retry_starts_a_fresh_budget_whose_attempts_are_manual()
    {
        // Dead-lettered after 6 attempts, then retried by a person: attempt 7 is the first of a new budget.
        var delivery = Delivery(attempts: 6, budgetStartsAfter: 6, budgetTrigger: AttemptTrigger.Manual);
        Assert.Equal(1, DeliveryTransition.AttemptInBudget(delivery));
        var t = Record(delivery, Unavailable());

        Assert.Equal(7, t.AttemptNumber);
        Assert.Equal(AttemptTrigger.Manual, t.Trigger);
        Assert.Equal(AttemptStatus.Retrying, t.Status);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), t.NextAttemptAt);
    }

    [Fact]
    public void A_manual_budget_runs_out_like_the_first()
    {
        var delivery = Delivery(attempts: 11, budgetStartsAfter: 6, budgetTrigger: AttemptTrigger.Manual);
        var t = Record(delivery, Unavailable());
        Assert.Equal((12, AttemptStatus.Failed, AttemptTrigger.Manual), (t.AttemptNumber, t.Status, t.Trigger));
    }

    [Fact]
    public void A_redrive_budget_records_its_attempts_as_redrive()
    {
        var delivery = Delivery(attempts: 6, budgetStartsAfter: 6, budgetTrigger: AttemptTrigger.Redrive);
        Assert.Equal(AttemptTrigger.Redrive, Record(delivery, Ok).Trigger);
        // Later attempts of that budget too.
        Assert.Equal(AttemptTrigger.Redrive, Record(Delivery(attempts: 2, budgetTrigger: AttemptTrigger.Redrive), Ok).Trigger);
    }

    [Fact]
    public void Of_changes_nothing_on_the_delivery()
    {
        var delivery = Delivery(attempts: 2);
        var before = (delivery.AttemptCount, delivery.Status, delivery.NextAttemptAt, delivery.LastError, delivery.UpdatedAt);
        Record(delivery, Unavailable());
        Assert.Equal(before, (delivery.AttemptCount, delivery.Status, delivery.NextAttemptAt, delivery.LastError, delivery.UpdatedAt));
    }

    [Fact]
    public void The_attempt_row_carries_the_outcome_and_the_event()
    {
        var delivery = Delivery();
        var change = Guid.NewGuid();
        var evt = new WebhookEvent { Id = "evt_1", Type = EventTypes.PolicyChangeDetected, PolicyChangeId = change, Payload = "{}", CreatedAt = Now };

        var failed = Record(delivery, Unavailable()).ToAttempt(delivery, evt, jobId: "42");
        Assert.Equal((delivery.Id, delivery.WebhookId, "evt_1", change, EventTypes.PolicyChangeDetected),
            (failed.DeliveryId, failed.WebhookId, failed.EventId, failed.PolicyChangeId, failed.EventType));
        Assert.Equal((AttemptStatus.Retrying, 503, "down", 1, AttemptTrigger.Scheduled, "HTTP 503 Service Unavailable", 30L, Now, "42"),
            (failed.Status, failed.StatusCode, failed.ResponseBody, failed.AttemptNumber, failed.Trigger, failed.ErrorMessage, failed.DurationMs, failed.CreatedAt, failed.HangfireJobId));
        Assert.Null(failed.DeliveredAt);
        Assert.NotEqual(Guid.Empty, failed.Id);

        var delivered = Record(delivery, Ok).ToAttempt(delivery, evt, jobId: null);
        Assert.Equal((AttemptStatus.Success, Now, (string?)null, (string?)null), (delivered.Status, delivered.DeliveredAt, delivered.ErrorMessage, delivered.HangfireJobId));
    }
}
