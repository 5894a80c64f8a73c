using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>How an event and its deliveries are first stored: a change's fan-out and a test send.</summary>
internal static class NewEvent
{
    public static Delivery DeliveryTo(WebhookEvent evt, Guid webhookId, DateTime now) => new()
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

    /// <summary>The event (and, for a fan-out, its change's FannedOutAt) through EF, its deliveries through <see cref="RowWriter"/>: one transaction.</summary>
    public static async Task SaveAsync(WebhookHubDbContext db, RowWriter rows, WebhookEvent evt, List<Delivery> deliveries, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Events.Add(evt);
        await db.SaveChangesAsync(ct);
        await rows.InsertAsync(deliveries, ct);
        await transaction.CommitAsync(ct);
    }
}
