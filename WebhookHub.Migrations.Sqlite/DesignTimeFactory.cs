using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;

namespace WebhookHub.Migrations.Sqlite;

/// <summary>
/// For `dotnet ef` only: the SQLite migrations of <see cref="WebhookHubDbContext"/> live here.
/// dotnet ef migrations add &lt;Name&gt; --project WebhookHub.Migrations.Sqlite -o Migrations
/// (then the same name in WebhookHub.Migrations.Postgres: every model change gets a migration on both).
/// </summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<WebhookHubDbContext>
{
    public WebhookHubDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<WebhookHubDbContext>().UseWebhookHubSqlite("design-time.db").Options);
}
