using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Sources;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Persistence;

// Migrations live per provider: WebhookHub.Migrations.Sqlite and WebhookHub.Migrations.Postgres (see their DesignTimeFactory).
public sealed class WebhookHubDbContext(DbContextOptions<WebhookHubDbContext> options)
    : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<PolicyChange> PolicyChanges => Set<PolicyChange>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<Delivery.Delivery> Deliveries => Set<Delivery.Delivery>();
    public DbSet<DeliveryAttempt> Attempts => Set<DeliveryAttempt>();
    public DbSet<Rollup> Rollups => Set<Rollup>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<IdempotencyKey> IdempotencyKeys => Set<IdempotencyKey>();
    public DbSet<Source> Sources => Set<Source>();
    public DbSet<SourceCheck> SourceChecks => Set<SourceCheck>();
    public DbSet<SourceSnapshot> SourceSnapshots => Set<SourceSnapshot>();

    /// <summary>The Data Protection key ring on PostgreSQL, shared by every node (on SQLite the keys stay in files).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>
    /// Every date is UTC, on both providers: PostgreSQL's <c>timestamptz</c> accepts only UTC, and SQLite
    /// reads its text back without a kind; so every <see cref="DateTime"/> is marked UTC on the way in and out.
    /// </summary>
    protected override void ConfigureConventions(ModelConfigurationBuilder builder)
    {
        builder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        builder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(WebhookHubDbContext).Assembly);
    }
}
