using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The send step: attempts a batch of deliveries concurrently (bounded by <see cref="DeliveryOptions.MaxParallelSends"/>),
/// each through its endpoint's lane (<see cref="EndpointLanes"/>), and hands the answers to <see cref="AttemptRecorder"/>
/// as they arrive. A caller that serves others (a fan-out, a retry job) stops waiting for slow sends and hands
/// them off, so one slow endpoint never holds up the next change.
/// </summary>
/// <param name="log">DeliveryJob's category, as before the pipeline was split: log filters that name it still match.</param>
public sealed partial class AttemptRunner(
    WebhookHubDbContext db,
    AttemptRecorder recorder,
    WebhookSender sender,
    WebhookSecretProtector protector,
    EndpointLanes lanes,
    IOptions<WebhookHubOptions> options,
    TimeProvider time,
    IServiceScopeFactory scopes,
    FanoutDispatcher dispatcher,
    ILogger<DeliveryJob> log)
{
    /// <summary>How often a caller that may hand off looks whether only slow sends are left (a backlog's fan-out costs about this).</summary>
    private static readonly TimeSpan LookAgain = TimeSpan.FromMilliseconds(10);

    public TimeSpan HandOffAfter => TimeSpan.FromMilliseconds(Math.Max(1, options.Value.Delivery.Endpoints.HandOffAfterMs));

    /// <summary>
    /// Sends concurrently (bounded) and records as results arrive: whatever finished while the last
    /// batch was being saved is saved together, so a fast receiver's rows never wait for a slow one's timeout.
    /// </summary>
    /// <param name="followUps">Passed to <see cref="AttemptRecorder.RecordAsync"/>; handed-off sends always get follow-up jobs.</param>
    /// <param name="handOffAfter">For callers that serve others (a fan-out, a retry job): stop waiting after this long and hand the
    /// sends still on the wire to their lane (<see cref="HandOff"/>); the result then lacks them.</param>
    /// <param name="admit">Ask each delivery's lane just before sending it, and park what it cannot take now
    /// (a fan-out); other callers took their lane slot before calling.</param>
    public async Task<List<DeliveryAttempt>> RunAsync(
        WebhookEvent evt, IReadOnlyList<(Delivery Delivery, Webhook Webhook)> work, string? jobId, bool followUps, CancellationToken ct,
        TimeSpan? handOffAfter = null, bool admit = false)
    {
        var recorded = new List<DeliveryAttempt>(work.Count);
        if (work.Count == 0) return recorded;
        var body = Encoding.UTF8.GetBytes(evt.Payload);
        var channel = Channel.CreateUnbounded<SentAttempt>(new UnboundedChannelOptions { SingleReader = true });
        var parked = new ConcurrentQueue<(Delivery, Admission.Wait)>();
        var outstanding = new ConcurrentDictionary<Guid, Guid>(work.Select(w => KeyValuePair.Create(w.Delivery.Id, w.Webhook.Id)));
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
                    var request = new AttemptRequest(item.Delivery.Id, evt.Id, evt.Type, item.Webhook.Url, body,
                        protector.SigningSecrets(item.Webhook, time.GetUtcNow().UtcDateTime), DeliveryTransition.NextAttemptNumber(item.Delivery));
                    AttemptOutcome? outcome = null;
                    try { outcome = await sender.SendAsync(request, token); }
                    // Every caller took a lane slot for this delivery (EndpointLanes.TryEnter); the result feeds its breaker.
                    finally { lanes.Leave(item.Delivery.Id, outcome); }
                    channel.Writer.TryWrite(new SentAttempt(item.Delivery, outcome));
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

    /// <summary>
    /// Called holding the delivery's lane slot, which only one caller at a time can hold: is the row still as
    /// this caller read it before taking the slot? A retry job and a redrive (or probe) of the same delivery
    /// both read it first; the one that took the slot second would otherwise send the same attempt number
    /// again (seen in RetryStormTests: two rows #2, two requests). When it moved on, the slot is given back.
    /// </summary>
    public async Task<bool> StillAsReadAsync(Delivery read, CancellationToken ct)
    {
        var now = await db.Deliveries.AsNoTracking().Where(d => d.Id == read.Id)
            .Select(d => new { d.AttemptCount, d.Status }).FirstOrDefaultAsync(ct);
        if (now is not null && now.AttemptCount == read.AttemptCount && now.Status is DeliveryStatus.Retrying or DeliveryStatus.Failed or DeliveryStatus.Pending)
            return true;
        lanes.Leave(read.Id, null);
        return false;
    }

    /// <summary>
    /// Records as results arrive until every send has answered, or until <paramref name="mayLeave"/> says
    /// the caller has waited enough (looked at every 10 ms); false when sends are still out (the caller
    /// hands them off). Null <paramref name="mayLeave"/>: wait for all.
    /// </summary>
    private async Task<bool> DrainAsync(WebhookEvent evt, ChannelReader<SentAttempt> reader, ConcurrentQueue<(Delivery, Admission.Wait)> parked,
        List<DeliveryAttempt> recorded, string? jobId, bool followUps, Func<bool>? mayLeave, CancellationToken ct)
    {
        var batch = new List<SentAttempt>();
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
            var ids = batch.Select(b => b.Delivery.Id).ToList();
            // Released as soon as the rows are saved: a retry job created for this batch may start before the rest of its follow-ups exist.
            try { recorded.AddRange(await recorder.RecordAsync(evt, batch, jobId, followUps, ct, saved: () => lanes.Recorded(ids))); }
            finally { lanes.Recorded(ids); }
            await ParkAsync(parked, ct);
        }
        await ParkAsync(parked, ct);
        return true;
    }

    private Task ParkAsync(ConcurrentQueue<(Delivery Delivery, Admission.Wait Wait)> queue, CancellationToken ct)
    {
        var parked = new List<(Delivery Delivery, Admission.Wait Wait)>();
        while (queue.TryDequeue(out var item)) parked.Add(item);
        return recorder.ParkAsync(parked, ct);
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
    private void HandOff(WebhookEvent evt, ChannelReader<SentAttempt> reader, ConcurrentQueue<(Delivery, Admission.Wait)> parked, Task sending, string? jobId)
    {
        // On PostgreSQL the fan-out's claim stays with this node until these are recorded: another node would send them again.
        var claim = dispatcher.HoldClaim(evt.PolicyChangeId);
        _ = Task.Run(async () =>
        {
            using var held = claim;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var runner = scope.ServiceProvider.GetRequiredService<AttemptRunner>();
                await runner.DrainAsync(evt, reader, parked, [], jobId, followUps: true, mayLeave: null, CancellationToken.None);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the handed-off attempts of event {EventId} failed; they stay owed")]
    private partial void LogHandOffFailed(Exception e, string eventId);
}
