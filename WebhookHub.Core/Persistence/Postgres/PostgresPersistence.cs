using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// PostgreSQL (<c>WebhookHub:Database:Provider = Postgres</c>, <c>ConnectionStrings:WebhookHub</c>): the
/// app's tables and Hangfire's schema in one database. Writes are concurrent transactions, no gate.
/// </summary>
public static class PostgresPersistence
{
    public const string MigrationsAssembly = "WebhookHub.Migrations.Postgres";

    public static TBuilder UseWebhookHubPostgres<TBuilder>(this TBuilder db, string connectionString) where TBuilder : DbContextOptionsBuilder
    {
        db.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly));
        return db;
    }

    public static IServiceCollection AddPostgresPersistence(this IServiceCollection services, string connectionString, WebhookHubOptions options)
    {
        services.AddDbContext<WebhookHubDbContext>(db => db.UseWebhookHubPostgres(connectionString));
        services.AddSingleton<IWriteGate, OpenWriteGate>();
        services.AddSingleton<IJobStore>(new PostgresJobStore(connectionString, options.Hangfire));
        services.AddSingleton<IFanoutClaims>(sp => new PostgresFanoutClaims(
            NpgsqlDataSource.Create(connectionString), options.Node, sp.GetRequiredService<ILogger<PostgresFanoutClaims>>()));
        // Several nodes may share this database: each one's live views get the others' events by LISTEN/NOTIFY.
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<PostgresEventBridge>(sp, connectionString));
        return services;
    }
}
