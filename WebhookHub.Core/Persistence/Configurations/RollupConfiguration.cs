using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class RollupConfiguration : IEntityTypeConfiguration<Rollup>
{
    public void Configure(EntityTypeBuilder<Rollup> entity)
    {
        // Webhook first: a window's read is one index range per webhook (span, start >= since).
        entity.HasKey(r => new { r.WebhookId, r.SpanMinutes, r.Start });
        entity.Ignore(r => r.Latency);
        entity.Ignore(r => r.Attempts);
        // One plain integer column per bucket: an upsert adds them up in SQL on every provider, and a
        // window's percentiles are SUMs, with no array or JSON functions. Default 0: an upsert names only
        // the buckets it adds to.
        for (var k = 0; k < LatencyHistogram.Buckets; k++)
            entity.Property<int>(LatencyHistogram.Property(k)).HasDefaultValue(0);
        // Retention deletes by period, oldest first.
        entity.HasIndex(r => new { r.SpanMinutes, r.Start });
        entity.ToSnakeCaseTable("webhook_rollups");
    }
}
