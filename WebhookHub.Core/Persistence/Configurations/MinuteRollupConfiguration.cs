using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class MinuteRollupConfiguration : IEntityTypeConfiguration<MinuteRollup>
{
    public void Configure(EntityTypeBuilder<MinuteRollup> entity)
    {
        entity.HasKey(r => new { r.WebhookId, r.Minute });
        entity.Ignore(r => r.Latency);
        entity.Ignore(r => r.Attempts);
        // One plain integer column per bucket: an upsert adds them up in SQL on every provider, and a
        // window's percentiles are SUMs, with no array or JSON functions.
        for (var k = 0; k < LatencyHistogram.Buckets; k++)
            entity.Property<int>(LatencyHistogram.Property(k));
        // Retention deletes by minute, oldest first.
        entity.HasIndex(r => r.Minute);
        entity.ToSnakeCaseTable("webhook_minute_rollups");
    }
}
