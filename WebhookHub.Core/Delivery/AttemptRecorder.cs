using Microsoft.Extensions.Logging;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>An attempt that has its answer, waiting to be recorded.</summary>
internal sealed record SentAttempt(Delivery Delivery, AttemptOutcome Outcome);

/// <summary>
/// The record step: what the pipeline writes about its deliveries. A batch of answers becomes one attempt row
/// each, the deliveries' new state (<see cref="DeliveryTransition"/>) and the rollups, in one transaction; then
/// one log line and notifier event per attempt (published together), the auto-disable rule, and follow-up jobs.
/// </summary>
/// <param name="log">DeliveryJob's category, as before the pipeline was split: log filters that name it still match.</param>
public sealed partial class AttemptRecorder(
    WebhookHubDbContext db,
    IWriteGate writes,
    RowWriter rows,
    RollupWriter rollups,
    RetryPolicy retryPolicy,
    RetryJobs retryJobs,
    DeliveryNotifier notifier,
    WebhookAutoDisabler autoDisabler,
    TimeProvider time,
    ILogger<DeliveryJob> log)
{
    /// <summary>What an attempt (and the retry job that made it) changes on its delivery row.</summary>
    public static readonly string[] AttemptColumns =
    [
        nameof(Delivery.Status), nameof(Delivery.AttemptCount), nameof(Delivery.BudgetStartsAfterAttempt), nameof(Delivery.NextAttemptAt),
        nameof(Delivery.LastAttemptAt), nameof(Delivery.LastStatusCode), nameof(Delivery.LastError), nameof(Delivery.HangfireJobId),
        nameof(Delivery.UpdatedAt), nameof(Delivery.BudgetTrigger),
    ];

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <param name="followUps">Create the retry (or dead-letter) job of every delivery not yet delivered; a retry job's own
    /// attempt is followed up by Hangfire instead.</param>
    /// <param name="saved">Called once the rows are committed, before the follow-up jobs are created (which can take seconds
    /// for a large batch, and the first of them may already be running).</param>
    internal async Task<List<DeliveryAttempt>> RecordAsync(WebhookEvent evt, List<SentAttempt> batch, string? jobId, bool followUps, CancellationToken ct,
        Action? saved = null)
    {
        var now = Now;
        var attempts = new List<DeliveryAttempt>(batch.Count);
        foreach (var (delivery, outcome) in batch)
        {
            // A test is not retried: a person is waiting for the answer and may press again.
            var delay = evt.Type == EventTypes.WebhookTest ? null : retryPolicy.NextDelay(outcome, DeliveryTransition.AttemptInBudget(delivery));
            var transition = DeliveryTransition.Of(delivery, outcome, delay, now);
            attempts.Add(transition.ToAttempt(delivery, evt, jobId));
            transition.ApplyTo(delivery);
        }
        var deliveries = batch.Select(s => s.Delivery).ToList();
        await writes.RunAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await rows.InsertAsync(attempts, ct);
            await rows.UpdateAsync(deliveries, AttemptColumns, ct);
            // The monitoring figures, in the same commit as the rows they count: one upsert per webhook and minute (hour, day).
            await rollups.AddAsync(Rollup.Of(attempts), ct);
            await transaction.CommitAsync(ct);
        }, ct);
        saved?.Invoke();

        var events = new List<IDeliveryEvent>(attempts.Count);
        foreach (var attempt in attempts)
        {
            LogAttempt(attempt.DeliveryId, attempt.EventType, attempt.EventId, attempt.WebhookId, attempt.AttemptNumber,
                attempt.Trigger, attempt.Status, attempt.StatusCode, attempt.DurationMs, attempt.ErrorMessage);
            events.Add(new AttemptRecorded(attempt.WebhookId, attempt.DeliveryId, attempt.EventType, attempt.AttemptNumber,
                attempt.Status, attempt.StatusCode, attempt.DurationMs, attempt.ErrorMessage, now));
            if (attempt.Status == AttemptStatus.Failed)
                events.Add(new DeliveryDeadLettered(attempt.WebhookId, attempt.DeliveryId, attempt.EventType, attempt.ErrorMessage, now));
        }
        // The batch as one publish: on several nodes it goes to the others in one NOTIFY.
        notifier.Publish(events);
        // Once per webhook and batch: the rule reads the webhook's latest deliveries, which this batch just saved.
        foreach (var failed in attempts.Where(a => a.Status == AttemptStatus.Failed).GroupBy(a => a.WebhookId))
            await autoDisabler.OnDeadLetteredAsync(failed.Key, failed.Any(a => a.StatusCode == 410) ? 410 : failed.Last().StatusCode, ct);

        if (followUps)
            await retryJobs.CreateFollowUpsAsync(deliveries.Where(d => d.Status != DeliveryStatus.Success).ToList(), ct);
        return attempts;
    }

    /// <summary>
    /// Parks what its lane could not take (full, over its rate, circuit open): retrying, with a scheduled
    /// job for when the lane expects room. No attempt is made or counted for a parked delivery.
    /// </summary>
    internal async Task ParkAsync(List<(Delivery Delivery, Admission.Wait Wait)> parked, CancellationToken ct)
    {
        if (parked.Count == 0) return;
        var now = Now;
        foreach (var (delivery, wait) in parked)
        {
            delivery.Status = DeliveryStatus.Retrying;
            delivery.NextAttemptAt = wait.LookAgainAt;
            delivery.LastError = RetryJobs.WaitingInLane(wait.Reason);
            delivery.UpdatedAt = now;
        }
        var deliveries = parked.Select(p => p.Delivery).ToList();
        // The job wakes at LookAgainAt; the row keeps the earliest time it may go, which is what a probe looks for.
        await retryJobs.CreateFollowUpsAsync(deliveries, ct);
        foreach (var (delivery, wait) in parked) delivery.NextAttemptAt = wait.Until;
        await writes.RunAsync(() => rows.UpdateAsync(deliveries, AttemptColumns, ct), ct);
    }

    /// <summary>A delivery's state without an attempt (cancelled, disabled, waiting for its lane), in the attempt's columns.</summary>
    public Task SaveStateAsync(Delivery delivery, CancellationToken ct) =>
        writes.RunAsync(() => rows.UpdateAsync([delivery], AttemptColumns, ct), ct);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId} of {EventType} {EventId} to webhook {WebhookId}, attempt {AttemptNumber} ({Trigger}): {Status}, status code {StatusCode}, {DurationMs} ms, error {Error}")]
    private partial void LogAttempt(Guid deliveryId, string eventType, string eventId, Guid webhookId, int attemptNumber,
        AttemptTrigger trigger, AttemptStatus status, int? statusCode, long durationMs, string? error);
}
