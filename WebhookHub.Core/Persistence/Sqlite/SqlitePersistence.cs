using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace WebhookHub.Core.Persistence.Sqlite;

/// <summary>SQLite, the embedded default: app.db and hangfire.db under the data directory, nothing to install.</summary>
public static class SqlitePersistence
{
    public const string MigrationsAssembly = "WebhookHub.Migrations.Sqlite";

    public static TBuilder UseWebhookHubSqlite<TBuilder>(this TBuilder db, string appDbPath) where TBuilder : DbContextOptionsBuilder
    {
        db.UseSqlite($"Data Source={appDbPath};Default Timeout=30", sqlite => sqlite.MigrationsAssembly(MigrationsAssembly))
            .AddInterceptors(new SqlitePragmas());
        return db;
    }

    public static IServiceCollection AddSqlitePersistence(this IServiceCollection services, WebhookHubOptions options)
    {
        var directory = options.FullDataDirectory;
        services.AddDbContext<WebhookHubDbContext>(db => db.UseWebhookHubSqlite(Path.Combine(directory, "app.db")));
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<IWriteGate>(sp => sp.GetRequiredService<SqliteWriteGate>());
        services.AddHostedService<WalCheckpointer>();
        services.AddSingleton<IJobStore>(new SqliteJobStore(Path.Combine(directory, "hangfire.db"), options.Hangfire));
        return services;
    }

    /// <summary>WAL: readers never wait for the writer. The mode is stored in the file; setting it again is a no-op.</summary>
    public static Task UseWriteAheadLogAsync(DatabaseFacade database, CancellationToken ct) =>
        database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
}
