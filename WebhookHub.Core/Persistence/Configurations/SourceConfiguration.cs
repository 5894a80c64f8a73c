using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebhookHub.Core.Sources;

namespace WebhookHub.Core.Persistence.Configurations;

internal sealed class SourceConfiguration : IEntityTypeConfiguration<Source>
{
    public void Configure(EntityTypeBuilder<Source> entity)
    {
        entity.Property(s => s.Name).HasMaxLength(SourceService.MaxNameLength);
        entity.Property(s => s.Url).HasMaxLength(SourceService.MaxUrlLength);
        entity.Property(s => s.Route).HasMaxLength(SourceService.MaxRouteLength);
        entity.Property(s => s.Cron).HasMaxLength(200);
        entity.Property(s => s.TriggerText).HasMaxLength(SourceService.MaxTriggerTextLength);
        // A small string map on both providers: JSON text, compared by content so an edited entry is saved.
        entity.Property(s => s.Headers).HasConversion(
                h => JsonSerializer.Serialize(h, (JsonSerializerOptions?)null),
                json => JsonSerializer.Deserialize<Dictionary<string, string>>(json, (JsonSerializerOptions?)null) ?? new Dictionary<string, string>(),
                new ValueComparer<Dictionary<string, string>>(
                    (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                    h => h.Aggregate(0, (hash, kv) => HashCode.Combine(hash, kv.Key, kv.Value)),
                    h => new Dictionary<string, string>(h)));
        entity.Property(s => s.ETag).HasMaxLength(1024);
        entity.Property(s => s.LastModified).HasMaxLength(100);
        entity.Property(s => s.LastError).HasMaxLength(SourceChecker.MaxErrorLength);
        // The snapshot switch is conditional on the snapshot it replaces: of two checks that saw the same
        // edit (a scheduled one and "check now", or two nodes), one saves and the other gets a concurrency
        // error instead of reporting the change a second time. The checker's other writes to a source
        // (when checked, failures, validators) are ExecuteUpdate statements, which this token does not guard.
        entity.Property(s => s.LatestSnapshotId).IsConcurrencyToken();
        // What the schedule reads every few seconds: the active sources that are due.
        entity.HasIndex(s => new { s.IsActive, s.NextCheckAt });
        entity.ToSnakeCaseTable("sources");
        entity.Property(s => s.ETag).HasColumnName("etag");
    }
}

internal sealed class SourceCheckConfiguration : IEntityTypeConfiguration<SourceCheck>
{
    public void Configure(EntityTypeBuilder<SourceCheck> entity)
    {
        entity.Property(c => c.Outcome).HasLowercaseConversion();
        entity.Property(c => c.Trigger).HasMaxLength(16);
        entity.Property(c => c.Error).HasMaxLength(SourceChecker.MaxErrorLength);
        // Deleting a source deletes its history; the policy changes it reported have no link back and stay.
        entity.HasOne<Source>().WithMany().HasForeignKey(c => c.SourceId).OnDelete(DeleteBehavior.Cascade);
        entity.HasIndex(c => new { c.SourceId, c.StartedAt }).IsDescending(false, true);
        entity.ToSnakeCaseTable("source_checks");
    }
}

internal sealed class SourceSnapshotConfiguration : IEntityTypeConfiguration<SourceSnapshot>
{
    public void Configure(EntityTypeBuilder<SourceSnapshot> entity)
    {
        entity.Property(s => s.ContentHash).HasMaxLength(64);
        entity.HasOne<Source>().WithMany().HasForeignKey(s => s.SourceId).OnDelete(DeleteBehavior.Cascade);
        entity.HasIndex(s => new { s.SourceId, s.TakenAt }).IsDescending(false, true);
        entity.ToSnakeCaseTable("source_snapshots");
    }
}
