using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>What pressing "test" came to; the API and the webhooks page each show it their way.</summary>
public abstract record TestSendResult
{
    private TestSendResult() { }

    /// <summary>No such live webhook, or one the caller may not see.</summary>
    public sealed record NotFound : TestSendResult;

    /// <summary>Over the webhook's test quota (<see cref="TestSendQuota"/>): try again after <paramref name="Wait"/>.</summary>
    public sealed record TooSoon(TimeSpan Wait) : TestSendResult;

    public sealed record Sent(DeliveryAttempt Attempt) : TestSendResult;
}

/// <summary>
/// The test send, the same for <c>POST /api/webhooks/{id}/test</c> and the webhooks page: a <c>webhook.test</c>
/// event sent now, whose only attempt is the answer. Not retried (a person is waiting for the answer and may
/// press again, within <see cref="QuotaOptions"/>). It skips the breaker, so a test can show that an endpoint is
/// back (and its success closes the circuit).
/// </summary>
public sealed class TestSend(
    WebhookHubDbContext db, IWriteGate writes, RowWriter rows, AttemptRunner runner, EndpointLanes lanes, TestSendQuota quota, TimeProvider time)
{
    /// <param name="ct">Callers pass <see cref="CancellationToken.None"/>: a caller who hangs up must not leave a delivery half-made.</param>
    public async Task<TestSendResult> SendAsync(WebhookCaller caller, Guid webhookId, CancellationToken ct)
    {
        var webhook = await db.Webhooks.VisibleTo(caller).FirstOrDefaultAsync(w => w.Id == webhookId && w.DeletedAt == null, ct);
        if (webhook is null) return new TestSendResult.NotFound();
        if (quota.TryTake(webhook.Id) is { } wait) return new TestSendResult.TooSoon(wait);

        var now = time.GetUtcNow().UtcDateTime;
        var evt = PayloadBuilder.ForTest(webhook, now);
        var delivery = NewEvent.DeliveryTo(evt, webhook.Id, now);
        await writes.RunAsync(() => NewEvent.SaveAsync(db, rows, evt, [delivery], ct), ct);
        lanes.TryEnter(webhook, delivery.Id, LaneUse.Test);
        return new TestSendResult.Sent((await runner.RunAsync(evt, [(delivery, webhook)], null, followUps: false, ct)).Single());
    }
}
