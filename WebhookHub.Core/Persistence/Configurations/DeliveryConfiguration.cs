using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery.Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery.Delivery> entity)
    {
        entity.Property(d => d.Status).HasLowercaseConversion();
        entity.Property(d => d.BudgetTrigger).HasLowercaseConversion();
        entity.Property(d => d.EventId).HasMaxLength(64);
        entity.Property(d => d.EventType).HasMaxLength(64);
        entity.Property(d => d.HangfireJobId).HasMaxLength(64);
        entity.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId);
        entity.HasOne<WebhookEvent>().WithMany().HasForeignKey(d => d.EventId);
        // One delivery per event and webhook: a fan-out that runs twice creates nothing twice.
        entity.HasIndex(d => new { d.EventId, d.WebhookId }).IsUnique();
        entity.HasIndex(d => new { d.WebhookId, d.Status });
        entity.HasIndex(d => new { d.Status, d.NextAttemptAt });
        entity.ToSnakeCaseTable("deliveries");
    }
}

internal sealed class DeliveryAttemptConfiguration : IEntityTypeConfiguration<DeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<DeliveryAttempt> entity)
    {
        entity.Property(a => a.Status).HasLowercaseConversion();
        entity.Property(a => a.Trigger).HasLowercaseConversion();
        entity.Property(a => a.EventId).HasMaxLength(64);
        entity.Property(a => a.EventType).HasMaxLength(64);
        entity.Property(a => a.HangfireJobId).HasMaxLength(64);
        entity.Property(a => a.ResponseBody).HasMaxLength(4096);
        entity.HasOne<Delivery.Delivery>().WithMany().HasForeignKey(a => a.DeliveryId);
        // History reads newest first by (created_at, id), the cursor's order; each filter has an index in
        // that order, so a page reads its own rows and stops (HistoryQueryPlanTests checks the plans).
        entity.HasIndex(a => new { a.WebhookId, a.CreatedAt, a.Id });
        entity.HasIndex(a => new { a.WebhookId, a.Status, a.CreatedAt, a.Id });
        entity.HasIndex(a => new { a.Status, a.CreatedAt, a.Id });
        entity.HasIndex(a => new { a.CreatedAt, a.Id });
        entity.HasIndex(a => a.DeliveryId);
        entity.ToSnakeCaseTable("webhook_deliveries");
    }
}
