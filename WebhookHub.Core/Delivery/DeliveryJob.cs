using System.Text;
using System.Threading.Channels;
using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The delivery pipeline. <see cref="FanOut"/> (run in-process by <see cref="FanoutDispatcher"/>) turns a
/// stored policy change into one event and one delivery per matching webhook and makes every first
/// attempt at once; each delivery that needs more gets its own Hangfire <see cref="Retry"/> job, which
/// is also its dead-letter entry in Hangfire's Failed state. A Hangfire job per first attempt would cap
/// throughput at Hangfire's job rate on SQLite; retries are rare, so they can afford a job each.
/// </summary>
public sealed partial class DeliveryJob(
    WebhookHubDbContext db,
    IWriteGate writes,
    RowWriter rows,
    RollupWriter rollups,
    WebhookSender sender,
    RetryPolicy retryPolicy,
    IBackgroundJobClient jobs,
    DeliveryNotifier notifier,
    WebhookAutoDisabler autoDisabler,
    WebhookSecretProtector protector,
    IOptions<WebhookHubOptions> options,
    TimeProvider time,
    FanoutDispatcher dispatcher,
    OverdueRetrySweep overdueRetries,
    ILogger<DeliveryJob> log,
    EndpointLanes lanes,
    IServiceScopeFactory scopes)
{
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>What an attempt (and the retry job that made it) changes on its delivery row.</summary>
    private static readonly string[] AttemptColumns =
    [
        nameof(Delivery.Status), nameof(Delivery.AttemptCount), nameof(Delivery.BudgetStartsAfterAttempt), nameof(Delivery.NextAttemptAt),
        nameof(Delivery.LastAttemptAt), nameof(Delivery.LastStatusCode), nameof(Delivery.LastError), nameof(Delivery.HangfireJobId),
        nameof(Delivery.UpdatedAt), nameof(Delivery.BudgetTrigger),
    ];

    /// <summary>
    /// Idempotent: the event, its deliveries and <see cref="PolicyChange.FannedOutAt"/> are saved in one
    /// transaction, so a re-run (after a crash, Hangfire runs it again) finds them and only finishes
    /// what is still owed: first attempts not yet made, follow-up jobs not yet created.
    /// </summary>
    public async Task FanOut(Guid policyChangeId, PerformContext? context, CancellationToken ct)
    {
        var change = await db.PolicyChanges.FindAsync([policyChangeId], ct);
        if (change is null) return;

        var active = await db.Webhooks.AsNoTracking().Where(w => w.IsActive && w.DeletedAt == null).ToListAsync(ct);
        var matching = active.Where(w => w.Wants(EventTypes.PolicyChangeDetected, change.Route)).ToList();
        List<Delivery> owed = [];
        Dictionary<Guid, Webhook> webhooks = [];
        // One event per change and type, by a unique index: the in-process dispatcher, the owed sweep (and
        // on PostgreSQL another node) may all reach here; whoever inserts second reads the first one's event.
        Task<WebhookEvent?> Existing() => db.Events.AsNoTracking()
            .FirstOrDefaultAsync(e => e.PolicyChangeId == policyChangeId && e.Type == EventTypes.PolicyChangeDetected, ct);
        var evt = await Existing() ?? await writes.RunAsync(async () =>
        {
            if (await Existing() is { } existing) return existing;
            var now = Now;
            var created = PayloadBuilder.ForPolicyChange(change, now, options.Value.PublicBaseUrl);
            var deliveries = matching.Select(w => NewDelivery(created, w.Id, now)).ToList();
            change.FannedOutAt = now;
            try
            {
                await SaveEventAsync(created, deliveries, ct);
            }
            catch (Exception e) when (UniqueViolation.Is(e))
            {
                db.Entry(created).State = EntityState.Detached;
                return await Existing() ?? throw new InvalidOperationException($"The event of change {policyChangeId} was reported as a duplicate but is missing.", e);
            }
            owed = deliveries;
            webhooks = matching.ToDictionary(w => w.Id);
            return created;
        }, ct);
        if (owed.Count == 0)
        {
            owed = await db.Deliveries.AsNoTracking()
                .Where(d => d.EventId == evt.Id && (d.Status == DeliveryStatus.Pending
                    || (d.HangfireJobId == null && (d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Failed))))
                .ToListAsync(ct);
            var ids = owed.Select(d => d.WebhookId).Distinct().ToList();
            webhooks = await db.Webhooks.AsNoTracking().Where(w => ids.Contains(w.Id)).ToDictionaryAsync(w => w.Id, ct);
            await CreateFollowUpJobsAsync(owed.Where(d => d.Status != DeliveryStatus.Pending).ToList(), ct);
        }

        var firstAttempts = owed
            .Where(d => d.Status == DeliveryStatus.Pending && webhooks.ContainsKey(d.WebhookId))
            // Handed off by an earlier run and still on the wire: recorded when it answers.
            .Where(d => !lanes.IsInFlight(d.Id))
            .Select(d => (d, webhooks[d.WebhookId]))
            .ToList();
        // Each first attempt asks its lane (admit): a slow endpoint's backlog is parked there, and its slow sends
        // handed off, so the next change never waits for it.
        await AttemptAsync(evt, firstAttempts, context?.BackgroundJob.Id, followUps: true, ct, HandOffAfter, admit: true);
    }

    /// <summary>
    /// The safety net of <see cref="FanoutDispatcher"/>: fans out every change that is still owed a
    /// minute after it was stored (a crash, a full queue, a failed fan-out), re-runs fan-outs whose
    /// first attempts never finished, and requeues retries stalled past their time (<see cref="OverdueRetrySweep"/>).
    /// Runs minutely; idempotent like <see cref="FanOut"/>.
    /// </summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task FanOutOwed(CancellationToken ct)
    {
        var before = Now - TimeSpan.FromMinutes(1);
        var changes = await db.PolicyChanges.Where(p => p.FannedOutAt == null && p.CreatedAt < before)
            .OrderBy(p => p.CreatedAt).Select(p => p.Id).Take(1000).ToListAsync(ct);
        var unfinished = await db.Deliveries
            .Where(d => d.PolicyChangeId != null && d.CreatedAt < before
                && (d.Status == DeliveryStatus.Pending || (d.HangfireJobId == null && (d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Failed))))
            .Select(d => d.PolicyChangeId!.Value).Distinct().OrderBy(id => id).Take(1000).ToListAsync(ct);
        // Through the dispatcher, which skips a change that is fanning out right now (slow receivers can
        // keep first attempts pending past the minute).
        foreach (var id in changes.Concat(unfinished).Distinct())
            dispatcher.Dispatch(id);
        await overdueRetries.RunAsync(ct);
    }

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
            await writes.RunAsync(() => rows.UpdateAsync([delivery], AttemptColumns, ct), ct);
            return;
        }
        if (!webhook.IsActive)
        {
            const string reason = "The webhook is disabled.";
            delivery.Status = DeliveryStatus.Failed;
            delivery.LastError = reason;
            delivery.UpdatedAt = Now;
            await writes.RunAsync(() => rows.UpdateAsync([delivery], AttemptColumns, ct), ct);
            notifier.Publish(new DeliveryDeadLettered(webhook.Id, delivery.Id, delivery.EventType, reason, Now));
            throw new DeliveryFailedException(reason);
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
            await writes.RunAsync(() => rows.UpdateAsync([delivery], AttemptColumns, ct), ct);
            throw new RetryLaterException(wait.LookAgainAt, wait.LookAgainAt - Now, "Waiting in the endpoint's lane: " + wait.Reason);
        }
        if (!await StillAsReadAsync(delivery, ct)) return; // attempted meanwhile (a redrive or probe); its follow-up job is its own
        var attempts = await AttemptAsync(evt, [(delivery, webhook)], jobId, followUps: false, ct, HandOffAfter);
        if (attempts.Count == 0)
            throw new AttemptHandedOffException("The receiver is slow to answer: the attempt goes on in the endpoint's lane, and its result schedules the next job.");
        var attempt = attempts.Single();
        if (attempt.Status == AttemptStatus.Retrying)
            throw new RetryLaterException(delivery.NextAttemptAt!.Value, delivery.NextAttemptAt.Value - delivery.LastAttemptAt!.Value,
                attempt.ErrorMessage ?? "retryable failure");
        if (attempt.Status == AttemptStatus.Failed)
            throw new DeliveryFailedException($"Dead-lettered after attempt {attempt.AttemptNumber}: {attempt.ErrorMessage}");
    }

    /// <summary>
    /// Sends a <c>webhook.test</c> event now and returns its only attempt: a test is not retried (a person
    /// is waiting for the answer and may press again, within <see cref="QuotaOptions"/>). It skips the
    /// breaker, so a test can show that an endpoint is back (and its success closes the circuit).
    /// </summary>
    public async Task<DeliveryAttempt> SendTestAsync(Webhook webhook, CancellationToken ct)
    {
        var now = Now;
        var evt = PayloadBuilder.ForTest(webhook, now);
        var delivery = NewDelivery(evt, webhook.Id, now);
        await writes.RunAsync(() => SaveEventAsync(evt, [delivery], ct), ct);
        lanes.TryEnter(webhook, delivery.Id, LaneUse.Test);
        return (await AttemptAsync(evt, [(delivery, webhook)], null, followUps: false, ct)).Single();
    }

    /// <summary>The event (and, for a fan-out, its change's FannedOutAt) through EF, its deliveries through <see cref="RowWriter"/>: one transaction.</summary>
    private async Task SaveEventAsync(WebhookEvent evt, List<Delivery> deliveries, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Events.Add(evt);
        await db.SaveChangesAsync(ct);
        await rows.InsertAsync(deliveries, ct);
        await transaction.CommitAsync(ct);
    }

    private static Delivery NewDelivery(WebhookEvent evt, Guid webhookId, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        WebhookId = webhookId,
        EventId = evt.Id,
        EventType = evt.Type,
        PolicyChangeId = evt.PolicyChangeId,
        Status = DeliveryStatus.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private sealed record Sent(Delivery Delivery, Webhook Webhook, int AttemptNumber, AttemptOutcome Outcome);

    /// <summary>
    /// Sends concurrently (bounded) and records as results arrive: whatever finished while the last
    /// batch was being saved is saved together, so a fast receiver's rows never wait for a slow one's timeout.
    /// </summary>
    /// <param name="handOffAfter">For callers that serve others (a fan-out, a retry job): stop waiting after this long and hand the
    /// sends still on the wire to their lane (<see cref="HandOff"/>); the result then lacks them.</param>
    /// <param name="admit">Ask each delivery's lane just before sending it, and park what it cannot take now
    /// (a fan-out); other callers took their lane slot before calling.</param>
    private async Task<List<DeliveryAttempt>> AttemptAsync(
        WebhookEvent evt, IReadOnlyList<(Delivery Delivery, Webhook Webhook)> work, string? jobId, bool followUps, CancellationToken ct,
        TimeSpan? handOffAfter = null, bool admit = false)
    {
        var recorded = new List<DeliveryAttempt>(work.Count);
        if (work.Count == 0) return recorded;
        var body = Encoding.UTF8.GetBytes(evt.Payload);
        var channel = Channel.CreateUnbounded<Sent>(new UnboundedChannelOptions { SingleReader = true });
        var parked = new System.Collections.Concurrent.ConcurrentQueue<(Delivery, Admission.Wait)>();
        var outstanding = new System.Collections.Concurrent.ConcurrentDictionary<Guid, Guid>(work.Select(w => KeyValuePair.Create(w.Delivery.Id, w.Webhook.Id)));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Value.Delivery.MaxParallelSends), CancellationToken = ct };
        var sending = Task.Run(async () =>
        {
            try
            {
                await Parallel.ForEachAsync(work, parallel, async (item, token) =>
                {
                    if (admit && await lanes.EnterAsync(item.Webhook, item.Delivery.Id, token) is Admission.Wait wait)
                    {
                        parked.Enqueue((item.Delivery, wait));
                        outstanding.TryRemove(item.Delivery.Id, out _);
                        return;
                    }
                    var number = item.Delivery.AttemptCount + 1;
                    var request = new AttemptRequest(item.Delivery.Id, evt.Id, evt.Type, item.Webhook.Url, body,
                        protector.SigningSecrets(item.Webhook, Now), number);
                    AttemptOutcome? outcome = null;
                    try { outcome = await sender.SendAsync(request, token); }
                    // Every caller took a lane slot for this delivery (EndpointLanes.TryEnter); the result feeds its breaker.
                    finally { lanes.Leave(item.Delivery.Id, outcome); }
                    channel.Writer.TryWrite(new Sent(item.Delivery, item.Webhook, number, outcome));
                    outstanding.TryRemove(item.Delivery.Id, out _);
                });
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);

        var started = time.GetTimestamp();
        Func<bool>? mayLeave = handOffAfter is { } after
            ? () => time.GetElapsedTime(started) >= after || OnlySlowLeft(outstanding)
            : null;
        if (!await DrainAsync(evt, channel.Reader, parked, recorded, jobId, followUps, mayLeave, ct))
        {
            HandOff(evt, channel.Reader, parked, sending, jobId);
            return recorded;
        }
        await sending;
        return recorded;
    }

    /// <summary>The record step: one attempt row per result, the delivery's new state and the rollups, in one transaction.</summary>
    private async Task<List<DeliveryAttempt>> RecordAsync(WebhookEvent evt, List<Sent> batch, string? jobId, bool followUps, CancellationToken ct)
    {
        var now = Now;
        var attempts = new List<DeliveryAttempt>(batch.Count);
        foreach (var (delivery, _, number, outcome) in batch)
        {
            delivery.AttemptCount = number;
            var delay = evt.Type == EventTypes.WebhookTest ? null : retryPolicy.NextDelay(outcome, number - delivery.BudgetStartsAfterAttempt);
            var status = outcome is AttemptOutcome.Succeeded ? AttemptStatus.Success
                : delay is not null ? AttemptStatus.Retrying : AttemptStatus.Failed;
            var error = (outcome as AttemptOutcome.Failed)?.Reason;
            var attempt = new DeliveryAttempt
            {
                Id = Guid.CreateVersion7(),
                DeliveryId = delivery.Id,
                WebhookId = delivery.WebhookId,
                EventId = evt.Id,
                PolicyChangeId = evt.PolicyChangeId,
                EventType = evt.Type,
                Status = status,
                StatusCode = outcome.StatusCode,
                ResponseBody = outcome.ResponseBody,
                AttemptNumber = number,
                // Every attempt of a budget a person started (dead-letter retry) counts as manual.
                Trigger = delivery.BudgetTrigger == AttemptTrigger.Redrive ? AttemptTrigger.Redrive
                    : delivery.BudgetStartsAfterAttempt > 0 ? AttemptTrigger.Manual : AttemptTrigger.Scheduled,
                DeliveredAt = status == AttemptStatus.Success ? now : null,
                ErrorMessage = error,
                DurationMs = outcome.DurationMs,
                CreatedAt = now,
                HangfireJobId = jobId,
            };
            attempts.Add(attempt);
            delivery.Status = status switch
            {
                AttemptStatus.Success => DeliveryStatus.Success,
                AttemptStatus.Retrying => DeliveryStatus.Retrying,
                _ => DeliveryStatus.Failed,
            };
            delivery.LastAttemptAt = now;
            delivery.LastStatusCode = outcome.StatusCode;
            delivery.LastError = error;
            delivery.NextAttemptAt = delay is { } d ? now + d : null;
            delivery.UpdatedAt = now;
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

        foreach (var attempt in attempts)
        {
            LogAttempt(attempt.DeliveryId, attempt.EventType, attempt.EventId, attempt.WebhookId, attempt.AttemptNumber,
                attempt.Trigger, attempt.Status, attempt.StatusCode, attempt.DurationMs, attempt.ErrorMessage);
            notifier.Publish(new AttemptRecorded(attempt.WebhookId, attempt.DeliveryId, attempt.EventType, attempt.AttemptNumber,
                attempt.Status, attempt.StatusCode, attempt.DurationMs, attempt.ErrorMessage, now));
            if (attempt.Status == AttemptStatus.Failed)
                notifier.Publish(new DeliveryDeadLettered(attempt.WebhookId, attempt.DeliveryId, attempt.EventType, attempt.ErrorMessage, now));
        }
        // Once per webhook and batch: the rule reads the webhook's latest deliveries, which this batch just saved.
        foreach (var failed in attempts.Where(a => a.Status == AttemptStatus.Failed).GroupBy(a => a.WebhookId))
            await autoDisabler.OnDeadLetteredAsync(failed.Key, failed.Any(a => a.StatusCode == 410) ? 410 : failed.Last().StatusCode, ct);

        if (followUps)
            await CreateFollowUpJobsAsync(batch.Select(s => s.Delivery).Where(d => d.Status != DeliveryStatus.Success).ToList(), ct);
        return attempts;
    }

    /// <summary>
    /// A retry job per delivery that will try again, and a job created straight in the Failed state per
    /// dead-lettered one, so that /hangfire lists it and a requeue retries it. Created after the
    /// attempt rows are saved; a crash in between leaves HangfireJobId null, which a fan-out re-run repairs.
    /// </summary>
    private async Task CreateFollowUpJobsAsync(List<Delivery> deliveries, CancellationToken ct)
    {
        if (deliveries.Count == 0) return;
        var now = Now;
        foreach (var delivery in deliveries)
        {
            var id = delivery.Id;
            var job = Job.FromExpression<DeliveryJob>(j => j.Retry(id, null, CancellationToken.None));
            var next = delivery.NextAttemptAt ?? now;
            delivery.HangfireJobId = delivery.Status == DeliveryStatus.Retrying
                ? jobs.Create(job, new ScheduledState(RetryOnScheduleAttribute.HangfireTime(next))
                    { Reason = $"Retry in {(next - (delivery.LastAttemptAt ?? now)).TotalSeconds:0.###} s: {delivery.LastError}" })
                : jobs.Create(job, new FailedState(new DeliveryFailedException($"Dead-lettered after attempt {delivery.AttemptCount}: {delivery.LastError}"))
                    { Reason = "Dead-lettered: " + delivery.LastError });
        }
        await writes.RunAsync(() => rows.UpdateAsync(deliveries, [nameof(Delivery.HangfireJobId)], ct), ct);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Delivery {DeliveryId} of {EventType} {EventId} to webhook {WebhookId}, attempt {AttemptNumber} ({Trigger}): {Status}, status code {StatusCode}, {DurationMs} ms, error {Error}")]
    private partial void LogAttempt(Guid deliveryId, string eventType, string eventId, Guid webhookId, int attemptNumber,
        AttemptTrigger trigger, AttemptStatus status, int? statusCode, long durationMs, string? error);
}
