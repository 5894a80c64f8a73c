using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Events;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class PolicyChangeConfiguration : IEntityTypeConfiguration<PolicyChange>
{
    public void Configure(EntityTypeBuilder<PolicyChange> entity)
    {
        entity.Property(p => p.Route).HasMaxLength(200);
        entity.Property(p => p.Source).HasMaxLength(2048);
        entity.HasIndex(p => p.CreatedAt);
        entity.HasIndex(p => p.FannedOutAt);
        entity.Property(p => p.FanOutOwner).HasMaxLength(200);
        // What a worker may claim is few rows of many: only they are in this index.
        entity.HasIndex(p => p.CreatedAt, "ix_policy_changes_claimable")
            .HasFilter("fanned_out_at IS NULL OR fan_out_lease_until IS NOT NULL");
        entity.ToSnakeCaseTable("policy_changes");
    }
}

internal sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> entity)
    {
        entity.Property(e => e.Id).HasMaxLength(64);
        entity.Property(e => e.Type).HasMaxLength(64);
        // One event per change and type: a fan-out that runs twice, or on two nodes at once, stores one.
        entity.HasIndex(e => new { e.PolicyChangeId, e.Type }).IsUnique();
        entity.HasIndex(e => e.CreatedAt);
        entity.ToSnakeCaseTable("webhook_events");
    }
}

internal sealed class IdempotencyKeyConfiguration : IEntityTypeConfiguration<IdempotencyKey>
{
    public void Configure(EntityTypeBuilder<IdempotencyKey> entity)
    {
        // The key is the primary key: of two concurrent requests with one key, the database lets one insert.
        entity.HasKey(k => new { k.UserId, k.Key });
        entity.Property(k => k.UserId).HasMaxLength(450);
        entity.Property(k => k.Key).HasMaxLength(IdempotencyKey.MaxKeyLength);
        entity.Property(k => k.RequestHash).HasMaxLength(64);
        entity.HasIndex(k => k.CreatedAt);
        entity.ToSnakeCaseTable("idempotency_keys");
    }
}
