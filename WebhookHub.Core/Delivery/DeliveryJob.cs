using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// What Hangfire runs: a delivery's <see cref="Retry"/> job (created by <see cref="RetryJobs"/>), which is also its
/// dead-letter entry in Hangfire's Failed state, and the minutely <see cref="FanOutOwed"/>. Hangfire stores a job
/// as this type's and method's names, so they stay as they are: jobs already in hangfire.db keep resolving.
/// </summary>
public sealed class DeliveryJob(
    WebhookHubDbContext db,
    FanOut fanOut,
    AttemptRunner runner,
    AttemptRecorder recorder,
    EndpointLanes lanes,
    DeliveryNotifier notifier,
    TimeProvider time)
{
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The safety net of <see cref="FanoutDispatcher"/>, minutely: <see cref="FanOut.OwedAsync"/>.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public Task FanOutOwed(CancellationToken ct) => fanOut.OwedAsync(ct);

    /// <summary>
    /// One attempt of one delivery. A retryable failure with budget left throws <see cref="RetryLaterException"/>
    /// (rescheduled by <see cref="RetryOnScheduleAttribute"/>); a final failure throws <see cref="DeliveryFailedException"/>,
    /// leaving the job Failed: the dead-letter queue. Attempts are counted on the delivery row, never
    /// from Hangfire's RetryCount, which a requeue does not reset.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail, LogEvents = false)]
    [RetryOnSchedule]
    public async Task Retry(Guid deliveryId, PerformContext? context, CancellationToken ct)
    {
        var delivery = await db.Deliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        if (delivery is null || delivery.Status is DeliveryStatus.Success or DeliveryStatus.Cancelled) return;
        var jobId = context?.BackgroundJob.Id;
        if (jobId is not null) delivery.HangfireJobId = jobId;
        // A Failed delivery that runs again was requeued by a person (dead-letter API or /hangfire): fresh budget.
        if (delivery.Status == DeliveryStatus.Failed)
        {
            delivery.BudgetStartsAfterAttempt = delivery.AttemptCount;
            delivery.BudgetTrigger = AttemptTrigger.Manual;
        }

        var webhook = await db.Webhooks.FindAsync([delivery.WebhookId], ct);
        if (webhook is null || webhook.DeletedAt is not null)
        {
            delivery.Status = DeliveryStatus.Cancelled;
            delivery.UpdatedAt = Now;
            await recorder.SaveStateAsync(delivery, ct);
            return;
        }
        if (!webhook.IsActive)
        {
            delivery.Status = DeliveryStatus.Failed;
            delivery.LastError = RetryJobs.WebhookDisabled;
            delivery.UpdatedAt = Now;
            await recorder.SaveStateAsync(delivery, ct);
            notifier.Publish(new DeliveryDeadLettered(webhook.Id, delivery.Id, delivery.EventType, RetryJobs.WebhookDisabled, Now));
            throw new DeliveryFailedException(RetryJobs.WebhookDisabled);
        }

        if (delivery.NextAttemptAt is { } due)
            notifier.Publish(new RetryPickedUp(delivery.WebhookId, delivery.Id, Now > due ? Now - due : TimeSpan.Zero, Now));

        // Hangfire starts a scheduled job up to half a second early (whole-second schedule); a receiver's
        // Retry-After and our schedule are minimums, so wait out the rest.
        if (delivery.NextAttemptAt - Now is { } early && early > TimeSpan.Zero && early <= TimeSpan.FromSeconds(1))
            await Task.Delay(early, time, ct);

        var evt = await db.Events.FindAsync([delivery.EventId], ct)
            ?? throw new InvalidOperationException($"Event {delivery.EventId} of delivery {delivery.Id} is missing.");
        if (lanes.TryEnter(webhook, delivery.Id) is Admission.Wait wait)
        {
            // Waits in its lane (full, over its rate, circuit open) without spending an attempt or holding this worker.
            delivery.Status = DeliveryStatus.Retrying;
            delivery.NextAttemptAt = wait.Until;
            delivery.UpdatedAt = Now;
            await recorder.SaveStateAsync(delivery, ct);
            throw new RetryLaterException(wait.LookAgainAt, wait.LookAgainAt - Now, RetryJobs.WaitingInLane(wait.Reason));
        }
        if (!await runner.StillAsReadAsync(delivery, ct)) return; // attempted meanwhile (a redrive or probe); its follow-up job is its own
        var attempts = await runner.RunAsync(evt, [(delivery, webhook)], jobId, followUps: false, ct, runner.HandOffAfter);
        if (attempts.Count == 0) throw new AttemptHandedOffException(RetryJobs.HandedOff);
        var attempt = attempts.Single();
        if (attempt.Status == AttemptStatus.Retrying)
            throw new RetryLaterException(delivery.NextAttemptAt!.Value, delivery.NextAttemptAt.Value - delivery.LastAttemptAt!.Value,
                attempt.ErrorMessage ?? "retryable failure");
        if (attempt.Status == AttemptStatus.Failed)
            throw new DeliveryFailedException(RetryJobs.DeadLettered(attempt.AttemptNumber, attempt.ErrorMessage));
    }
}
