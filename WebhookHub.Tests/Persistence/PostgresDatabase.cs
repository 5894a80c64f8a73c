using Microsoft.EntityFrameworkCore;
using Npgsql;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Tests.Persistence;

/// <summary>
/// A migrated PostgreSQL database of its own for one test class (a class fixture), on the server of
/// <see cref="PostgresFactAttribute.ServerVariable"/>, dropped when the class is done. Without the server it
/// does nothing: the class's <see cref="PostgresFactAttribute"/> tests are skipped.
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private readonly string _name = $"webhookhub_test_{Guid.NewGuid():n}";

    public string ConnectionString => new NpgsqlConnectionStringBuilder(PostgresFactAttribute.Server!) { Database = _name }.ConnectionString;

    public WebhookHubDbContext NewContext() =>
        new(new DbContextOptionsBuilder<WebhookHubDbContext>().UseWebhookHubPostgres(ConnectionString).Options);

    public async Task InitializeAsync()
    {
        if (PostgresFactAttribute.Server is null) return;
        await ExecuteOnServerAsync($"CREATE DATABASE \"{_name}\"");
        await using var db = NewContext();
        await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        if (PostgresFactAttribute.Server is null) return;
        // This database's pool only: other classes' databases are in use beside it.
        await using (var pooled = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(pooled);
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)");
    }

    private static async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresFactAttribute.Server!) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
