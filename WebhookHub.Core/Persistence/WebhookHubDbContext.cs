using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Persistence;

// Migrations: dotnet ef migrations add <Name> --project WebhookHub.Core --startup-project WebhookHub.Web -o Persistence/Migrations
public sealed class WebhookHubDbContext(DbContextOptions<WebhookHubDbContext> options)
    : IdentityDbContext<AppUser>(options)
{
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<PolicyChange> PolicyChanges => Set<PolicyChange>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<Delivery.Delivery> Deliveries => Set<Delivery.Delivery>();
    public DbSet<DeliveryAttempt> Attempts => Set<DeliveryAttempt>();
    public DbSet<Rollup> Rollups => Set<Rollup>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<IdempotencyKey> IdempotencyKeys => Set<IdempotencyKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(WebhookHubDbContext).Assembly);
    }
}
