using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>A failed delivery waiting for a person.</summary>
public sealed record DeadLetter(
    Guid DeliveryId, Guid WebhookId, string WebhookName, string EventId, string EventType, Guid? PolicyChangeId,
    int AttemptCount, int? LastStatusCode, string? LastError, DateTime? LastAttemptAt, string? HangfireJobId, DateTime CreatedAt);

/// <summary>
/// The dead-letter queue: deliveries in <c>failed</c>, whose Hangfire job is in the Failed state.
/// A retry gives a fresh budget and requeues that same job, so /hangfire keeps one job per delivery
/// with its whole story; only when the job is gone (deleted at /hangfire) is a new one enqueued.
/// </summary>
public sealed class DeadLetterService(WebhookHubDbContext db, IWriteGate writes, RetryJobs retryJobs, TimeProvider time)
{
    public const int MaxListed = 1000;

    /// <param name="visible">The webhooks the caller may see (a customer's own, or all).</param>
    public async Task<List<DeadLetter>> ListAsync(IQueryable<Webhook> visible, Guid? webhookId, CancellationToken ct) =>
        await Query(visible, webhookId).Take(MaxListed).ToListAsync(ct);

    /// <summary>One page of <see cref="ListAsync"/>'s order and the total: the dead-letter page never loads the queue whole.</summary>
    public async Task<(List<DeadLetter> Items, int Total)> PageAsync(IQueryable<Webhook> visible, Guid? webhookId, int skip, int take, CancellationToken ct)
    {
        var query = Query(visible, webhookId);
        return (await query.Skip(Math.Max(0, skip)).Take(take).ToListAsync(ct), await query.CountAsync(ct));
    }

    /// <summary>The webhooks that have dead letters (id → name), for the page's filter.</summary>
    public Task<Dictionary<Guid, string>> WebhooksWithDeadLettersAsync(IQueryable<Webhook> visible, CancellationToken ct) =>
        (from d in db.Deliveries
         join w in visible on d.WebhookId equals w.Id
         where d.Status == DeliveryStatus.Failed && d.EventType != EventTypes.WebhookTest
         select new { w.Id, w.Name }).Distinct().ToDictionaryAsync(w => w.Id, w => w.Name, ct);

    private IQueryable<DeadLetter> Query(IQueryable<Webhook> visible, Guid? webhookId) =>
        from d in db.Deliveries
        join w in visible on d.WebhookId equals w.Id
        // A failed test send is not a dead letter: it is never retried, the person who pressed "test" saw the answer.
        where d.Status == DeliveryStatus.Failed && d.EventType != EventTypes.WebhookTest && (webhookId == null || d.WebhookId == webhookId)
        orderby d.UpdatedAt descending, d.Id descending
        select new DeadLetter(d.Id, w.Id, w.Name, d.EventId, d.EventType, d.PolicyChangeId, d.AttemptCount,
            d.LastStatusCode, d.LastError, d.LastAttemptAt, d.HangfireJobId, d.CreatedAt);

    /// <summary>Retries the given failed deliveries the caller may see; returns the ids actually retried.</summary>
    public async Task<List<Guid>> RetryAsync(IQueryable<Webhook> visible, IReadOnlyCollection<Guid>? deliveryIds, Guid? webhookId, CancellationToken ct)
    {
        var query = from d in db.Deliveries
                    join w in visible on d.WebhookId equals w.Id
                    where d.Status == DeliveryStatus.Failed && w.DeletedAt == null
                    select d;
        if (deliveryIds is not null) query = query.Where(d => deliveryIds.Contains(d.Id));
        if (webhookId is not null) query = query.Where(d => d.WebhookId == webhookId);
        var deliveries = await query.ToListAsync(ct);
        if (deliveries.Count == 0) return [];

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var delivery in deliveries)
        {
            delivery.Status = DeliveryStatus.Retrying;
            delivery.BudgetStartsAfterAttempt = delivery.AttemptCount;
            delivery.BudgetTrigger = AttemptTrigger.Manual;
            delivery.NextAttemptAt = now;
            delivery.UpdatedAt = now;
        }
        // Saved before the jobs run, so the job sees the fresh budget.
        await writes.SaveChangesAsync(db, ct);

        foreach (var delivery in deliveries)
        {
            var requeued = delivery.HangfireJobId is { } jobId
                && retryJobs.Requeue(jobId, RetryJobs.DeadLetterRetried, Hangfire.States.FailedState.StateName);
            if (!requeued) delivery.HangfireJobId = retryJobs.Enqueue(delivery.Id);
        }
        await writes.SaveChangesAsync(db, ct);
        return deliveries.Select(d => d.Id).ToList();
    }
}
