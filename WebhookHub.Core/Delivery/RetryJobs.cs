using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// The one place that creates and moves a delivery's Hangfire job (<see cref="DeliveryJob.Retry"/>), with the
/// reason texts /hangfire shows for it. Only deliveries that need more than their first attempt get a job,
/// and that job is also their dead-letter entry: a dead letter's job sits in the Failed state, so /hangfire
/// lists it and a requeue retries it.
/// </summary>
public sealed class RetryJobs(IBackgroundJobClient jobs, IWriteGate writes, RowWriter rows, TimeProvider time)
{
    public const string WebhookDisabled = "The webhook is disabled.";
    public const string HandedOff =
        "The receiver is slow to answer: the attempt goes on in the endpoint's lane, and its result schedules the next job.";
    public const string OverdueRequeued = "Requeued by the owed sweep: the retry was more than a minute overdue";
    public const string DeadLetterRetried = "Retried from the dead-letter queue";

    public static string RetryIn(TimeSpan delay, string? why) => $"Retry in {delay.TotalSeconds:0.###} s: {why}";

    public static string DeadLettered(int attemptNumber, string? error) => $"Dead-lettered after attempt {attemptNumber}: {error}";

    /// <summary>The row's <see cref="Delivery.LastError"/> and the job's reason while a delivery waits for its lane.</summary>
    public static string WaitingInLane(string reason) => "Waiting in the endpoint's lane: " + reason;

    /// <summary>A retry job to run now: recovery, an overdue retry without a job, a dead letter retried by hand.</summary>
    public string Enqueue(Guid deliveryId) => jobs.Enqueue<DeliveryJob>(j => j.Retry(deliveryId, null, CancellationToken.None));

    /// <summary>Back in the queue, only from <paramref name="fromState"/>, so a worker that picked the job up meanwhile keeps it.</summary>
    public bool Requeue(string jobId, string reason, string fromState) =>
        jobs.ChangeState(jobId, new EnqueuedState { Reason = reason }, fromState);

    /// <summary>The job of a delivery attempted outside Hangfire (a probe, a redrive) gives way; the attempt makes the next one.</summary>
    public void Delete(string jobId) => jobs.Delete(jobId);

    /// <summary>
    /// A scheduled retry job per delivery that will try again, and a job created straight in the Failed state
    /// per dead-lettered one; their ids saved on the rows. Created after the attempt rows are saved; a crash in
    /// between leaves HangfireJobId null, which a fan-out re-run repairs.
    /// </summary>
    public async Task CreateFollowUpsAsync(List<Delivery> deliveries, CancellationToken ct)
    {
        if (deliveries.Count == 0) return;
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var delivery in deliveries)
        {
            var id = delivery.Id;
            var job = Job.FromExpression<DeliveryJob>(j => j.Retry(id, null, CancellationToken.None));
            var next = delivery.NextAttemptAt ?? now;
            delivery.HangfireJobId = delivery.Status == DeliveryStatus.Retrying
                ? jobs.Create(job, new ScheduledState(RetryOnScheduleAttribute.HangfireTime(next))
                    { Reason = RetryIn(next - (delivery.LastAttemptAt ?? now), delivery.LastError) })
                : jobs.Create(job, new FailedState(new DeliveryFailedException(DeadLettered(delivery.AttemptCount, delivery.LastError)))
                    { Reason = "Dead-lettered: " + delivery.LastError });
        }
        await writes.RunAsync(() => rows.UpdateAsync(deliveries, [nameof(Delivery.HangfireJobId)], ct), ct);
    }
}
