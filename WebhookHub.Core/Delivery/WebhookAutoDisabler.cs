using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// Switches off a webhook whose receiver keeps failing (<see cref="AutoDisableOptions"/>), so a dead
/// endpoint stops costing retries and its owner is told. Only failures since the webhook was last
/// changed count: re-enabling or editing it is a fresh start. Its unfinished deliveries are
/// dead-lettered by the retry job (a disabled webhook receives nothing), so re-enabling with
/// redelivery brings them back.
/// </summary>
public sealed partial class WebhookAutoDisabler(
    WebhookHubDbContext db, IWriteGate writes, DeliveryNotifier notifier, IOptions<WebhookHubOptions> options, TimeProvider time,
    ILogger<WebhookAutoDisabler> log)
{
    private AutoDisableOptions Rule => options.Value.Delivery.AutoDisable;

    /// <summary>Called after a delivery was dead-lettered, with the receiver's last status code.</summary>
    public async Task OnDeadLetteredAsync(Guid webhookId, int? statusCode, CancellationToken ct)
    {
        if (statusCode == 410 && Rule.OnGone)
        {
            await DisableAsync(webhookId, "The receiver answered 410 Gone: the endpoint no longer exists.", ct);
            return;
        }
        if (Rule.ConsecutiveDeadLetters <= 0) return;

        var since = await db.Webhooks.Where(w => w.Id == webhookId && w.IsActive).Select(w => (DateTime?)w.UpdatedAt).FirstOrDefaultAsync(ct);
        if (since is null) return;
        var latest = await db.Deliveries
            .Where(d => d.WebhookId == webhookId && d.LastAttemptAt >= since
                && (d.Status == DeliveryStatus.Success || d.Status == DeliveryStatus.Failed))
            .OrderByDescending(d => d.LastAttemptAt)
            .Take(Rule.ConsecutiveDeadLetters)
            .Select(d => new { d.Status, d.CreatedAt, d.LastAttemptAt })
            .ToListAsync(ct);
        if (latest.Count < Rule.ConsecutiveDeadLetters || latest.Any(d => d.Status != DeliveryStatus.Failed)) return;
        var lasted = latest[0].LastAttemptAt!.Value - latest.Min(d => d.CreatedAt);
        if (lasted < TimeSpan.FromMinutes(Rule.MinimumMinutes)) return;

        await DisableAsync(webhookId,
            $"{latest.Count} deliveries in a row were dead-lettered over {Math.Floor(lasted.TotalMinutes)} minutes.", ct);
    }

    /// <summary>
    /// The breaker's path (<see cref="AutoDisableOptions.OpenCircuitMinutes"/>): the endpoint's circuit opened at
    /// <paramref name="openSince"/> and no probe has succeeded since. Its parked deliveries are dead-lettered by their jobs.
    /// </summary>
    public Task OnCircuitStuckAsync(Guid webhookId, DateTime openSince, CancellationToken ct) =>
        DisableAsync(webhookId,
            $"Its circuit has been open since {openSince:u} ({Math.Floor((time.GetUtcNow().UtcDateTime - openSince).TotalMinutes)} minutes): every probe failed.", ct);

    private async Task DisableAsync(Guid webhookId, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // A conditional update, not a tracked change: concurrent fan-outs may reach this for one webhook at
        // once, and only the one that switches it off tells the feed. Called after the attempt rows are
        // saved, so the write gate is free.
        var changed = await writes.RunAsync(() => db.Webhooks
            .Where(w => w.Id == webhookId && w.IsActive && w.DeletedAt == null)
            .ExecuteUpdateAsync(u => u
                .SetProperty(w => w.IsActive, false)
                .SetProperty(w => w.DisabledReason, reason)
                .SetProperty(w => w.UpdatedAt, now), ct), ct);
        if (changed == 0) return;
        LogDisabled(webhookId, reason);
        var owner = await db.Webhooks.Where(w => w.Id == webhookId).Select(w => w.UserId).FirstAsync(ct);
        // The event the live dashboard already relays for every switch on or off.
        notifier.Publish(new WebhookStateChanged(webhookId, owner, IsActive: false, Deleted: false, reason, now));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} disabled: {Reason}")]
    private partial void LogDisabled(Guid webhookId, string reason);
}
