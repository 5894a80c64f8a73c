using System.Collections.Concurrent;
using System.Threading.Channels;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>What a redrive or a probe did with one delivery.</summary>
public abstract record RedriveResult
{
    private RedriveResult() { }

    /// <summary>Nothing to do: delivered meanwhile, already on the wire, or the webhook is off.</summary>
    public sealed record Skipped : RedriveResult;

    /// <summary>Its lane would not take it now (full, or the circuit opened again).</summary>
    public sealed record Held(DateTime Until, string Reason) : RedriveResult;

    public sealed record Attempted(AttemptStatus Status, int? StatusCode, long DurationMs) : RedriveResult;
}

/// <summary>
/// The delivery pipeline's side of the endpoint lanes (<see cref="EndpointLanes"/>): parking what a lane
/// cannot take now, handing slow sends off so the caller can move on, and the single-delivery attempts
/// the redrive and the breaker's probes make. Kept beside <c>DeliveryJob.cs</c> so the core steps read as before.
/// </summary>
public sealed partial class DeliveryJob
{
    private TimeSpan HandOffAfter => TimeSpan.FromMilliseconds(Math.Max(1, options.Value.Delivery.Endpoints.HandOffAfterMs));

    /// <summary>
    /// Parks what its lane could not take (full, over its rate, circuit open): retrying, with a scheduled
    /// job for when the lane expects room. No attempt is made or counted for a parked delivery.
    /// </summary>
    private async Task ParkAsync(ConcurrentQueue<(Delivery Delivery, Admission.Wait Wait)> queue, CancellationToken ct)
    {
        var parked = new List<(Delivery Delivery, Admission.Wait Wait)>();
        while (queue.TryDequeue(out var item)) parked.Add(item);
        if (parked.Count == 0) return;
        var now = Now;
        foreach (var (delivery, wait) in parked)
        {
            delivery.Status = DeliveryStatus.Retrying;
            delivery.NextAttemptAt = wait.LookAgainAt;
            delivery.LastError = "Waiting in the endpoint's lane: " + wait.Reason;
            delivery.UpdatedAt = now;
        }
        var deliveries = parked.Select(p => p.Delivery).ToList();
        // The job wakes at LookAgainAt; the row keeps the earliest time it may go, which is what a probe looks for.
        await CreateFollowUpJobsAsync(deliveries, ct);
        foreach (var (delivery, wait) in parked) delivery.NextAttemptAt = wait.Until;
        await writes.RunAsync(() => rows.UpdateAsync(deliveries, AttemptColumns, ct), ct);
    }

    /// <summary>How often a caller that may hand off looks whether only slow sends are left (a backlog's fan-out costs about this).</summary>
    private static readonly TimeSpan LookAgain = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Records as results arrive until every send has answered, or until <paramref name="mayLeave"/> says
    /// the caller has waited enough (looked at every 10 ms); false when sends are still out (the caller
    /// hands them off). Null <paramref name="mayLeave"/>: wait for all.
    /// </summary>
    private async Task<bool> DrainAsync(WebhookEvent evt, ChannelReader<Sent> reader, ConcurrentQueue<(Delivery, Admission.Wait)> parked,
        List<DeliveryAttempt> recorded, string? jobId, bool followUps, Func<bool>? mayLeave, CancellationToken ct)
    {
        var batch = new List<Sent>();
        while (true)
        {
            bool more;
            if (mayLeave is null) more = await reader.WaitToReadAsync(ct);
            else
            {
                // A cancelled wait leaves the channel as it was, so the hand-off's reader takes over cleanly.
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(ct);
                tick.CancelAfter(LookAgain);
                try { more = await reader.WaitToReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    if (!mayLeave()) continue;
                    await ParkAsync(parked, ct);
                    return false;
                }
            }
            if (!more) break;
            batch.Clear();
            while (reader.TryRead(out var sent)) batch.Add(sent);
            try { recorded.AddRange(await RecordAsync(evt, batch, jobId, followUps, ct)); }
            finally { lanes.Recorded(batch.Select(b => b.Delivery.Id)); }
            await ParkAsync(parked, ct);
        }
        await ParkAsync(parked, ct);
        return true;
    }

    /// <summary>
    /// True when every send still out is to an endpoint that is slow right now (waiting for a slot of its
    /// full lane, or with an attempt in flight longer than <see cref="EndpointOptions.HandOffAfterMs"/>):
    /// waiting for it would only hold up the next change.
    /// </summary>
    private bool OnlySlowLeft(ConcurrentDictionary<Guid, Guid> outstanding) =>
        !outstanding.IsEmpty && outstanding.All(o => lanes.IsSlow(o.Value, o.Key, HandOffAfter));

    /// <summary>
    /// The sends a fan-out or a retry job stopped waiting for: they stay in their lane and are recorded in a
    /// scope of their own when they answer, with follow-up jobs (the job that started them has moved on).
    /// </summary>
    private void HandOff(WebhookEvent evt, ChannelReader<Sent> reader, ConcurrentQueue<(Delivery, Admission.Wait)> parked, Task sending, string? jobId)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var job = scope.ServiceProvider.GetRequiredService<DeliveryJob>();
                await job.DrainAsync(evt, reader, parked, [], jobId, followUps: true, mayLeave: null, CancellationToken.None);
                await sending;
            }
            catch (OperationCanceledException)
            {
                // The app is stopping: left pending in app.db, delivered after the next start.
            }
            catch (Exception e)
            {
                // Left pending or retrying in app.db: the owed sweep or recovery picks it up.
                LogHandOffFailed(e, evt.Id);
            }
        }, CancellationToken.None);
    }

    /// <summary>
    /// Attempts one delivery now, outside Hangfire: the redrive of a recovered endpoint and the breaker's
    /// probe. A dead letter (or any delivery when <paramref name="redrive"/>) starts a fresh budget recorded
    /// as <c>redrive</c>; its old Hangfire job gives way, and the attempt's result makes the next one as usual.
    /// </summary>
    public async Task<RedriveResult> AttemptNowAsync(Guid deliveryId, bool redrive, CancellationToken ct)
    {
        var delivery = await db.Deliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        if (delivery is null || delivery.Status is not (DeliveryStatus.Failed or DeliveryStatus.Retrying) || lanes.IsInFlight(deliveryId))
            return new RedriveResult.Skipped();
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == delivery.WebhookId, ct);
        if (webhook is null || !webhook.IsActive || webhook.DeletedAt is not null) return new RedriveResult.Skipped();
        var evt = await db.Events.AsNoTracking().FirstAsync(e => e.Id == delivery.EventId, ct);

        if (lanes.TryEnter(webhook, delivery.Id) is Admission.Wait wait) return new RedriveResult.Held(wait.Until, wait.Reason);
        if (!await StillAsReadAsync(delivery, ct)) return new RedriveResult.Skipped();
        if (delivery.HangfireJobId is { } old) jobs.Delete(old);
        delivery.HangfireJobId = null;
        if (redrive || delivery.Status == DeliveryStatus.Failed)
        {
            delivery.BudgetStartsAfterAttempt = delivery.AttemptCount;
            delivery.BudgetTrigger = AttemptTrigger.Redrive;
        }
        delivery.Status = DeliveryStatus.Retrying;
        var attempt = (await AttemptAsync(evt, [(delivery, webhook)], null, followUps: true, ct)).Single();
        return new RedriveResult.Attempted(attempt.Status, attempt.StatusCode, attempt.DurationMs);
    }

    /// <summary>
    /// Called holding the delivery's lane slot, which only one caller at a time can hold: is the row still as
    /// this caller read it before taking the slot? A retry job and a redrive (or probe) of the same delivery
    /// both read it first; the one that took the slot second would otherwise send the same attempt number
    /// again (seen in RetryStormTests: two rows #2, two requests). When it moved on, the slot is given back.
    /// </summary>
    private async Task<bool> StillAsReadAsync(Delivery read, CancellationToken ct)
    {
        var now = await db.Deliveries.AsNoTracking().Where(d => d.Id == read.Id)
            .Select(d => new { d.AttemptCount, d.Status }).FirstOrDefaultAsync(ct);
        if (now is not null && now.AttemptCount == read.AttemptCount && now.Status is DeliveryStatus.Retrying or DeliveryStatus.Failed or DeliveryStatus.Pending)
            return true;
        lanes.Leave(read.Id, null);
        return false;
    }

    /// <summary>
    /// The delivery the breaker probes an open endpoint with: its oldest one that is due (parked behind the
    /// circuit, or a retry whose time has come; a retry scheduled later keeps its schedule), else its latest
    /// dead letter since it broke; null when it has neither (the next delivery that comes along probes it).
    /// </summary>
    public async Task<Guid?> ProbeCandidateAsync(Guid webhookId, DateTime brokeAt, CancellationToken ct)
    {
        var now = Now;
        return await db.Deliveries.AsNoTracking()
            .Where(d => d.WebhookId == webhookId && d.EventType != EventTypes.WebhookTest && d.Status == DeliveryStatus.Retrying && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Select(d => (Guid?)d.Id).FirstOrDefaultAsync(ct)
        ?? await db.Deliveries.AsNoTracking()
            .Where(d => d.WebhookId == webhookId && d.EventType != EventTypes.WebhookTest && d.Status == DeliveryStatus.Failed && d.LastAttemptAt >= brokeAt)
            .OrderByDescending(d => d.LastAttemptAt).Select(d => (Guid?)d.Id).FirstOrDefaultAsync(ct);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Error,
        Message = "Recording the handed-off attempts of event {EventId} failed; they stay owed")]
    private partial void LogHandOffFailed(Exception e, string eventId);
}
