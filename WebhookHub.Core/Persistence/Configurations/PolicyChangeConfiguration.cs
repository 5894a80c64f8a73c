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
        entity.ToSnakeCaseTable("policy_changes");
    }
}

internal sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> entity)
    {
        entity.Property(e => e.Id).HasMaxLength(64);
        entity.Property(e => e.Type).HasMaxLength(64);
        entity.HasIndex(e => e.PolicyChangeId);
        entity.HasIndex(e => e.CreatedAt);
        entity.ToSnakeCaseTable("webhook_events");
    }
}
