using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> entity)
    {
        entity.Property(w => w.Name).HasMaxLength(200);
        entity.Property(w => w.Url).HasMaxLength(2048);
        entity.Property(w => w.UserId).HasMaxLength(450);
        entity.Property(w => w.DisabledReason).HasMaxLength(500);
        entity.HasIndex(w => w.UserId);
        entity.ToSnakeCaseTable("webhooks");
    }
}
