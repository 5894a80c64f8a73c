using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Migrations.Postgres;

/// <summary>
/// For `dotnet ef` only: the PostgreSQL migrations of <see cref="WebhookHubDbContext"/> live here.
/// dotnet ef migrations add &lt;Name&gt; --project WebhookHub.Migrations.Postgres -o Migrations
/// (no server needed to add one; the connection string is only a placeholder).
/// </summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<WebhookHubDbContext>
{
    public WebhookHubDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<WebhookHubDbContext>().UseWebhookHubPostgres("Host=127.0.0.1;Database=webhookhub").Options);
}
