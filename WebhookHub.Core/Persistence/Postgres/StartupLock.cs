using Npgsql;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// Nodes starting at once on one PostgreSQL database take turns through the whole start-up: migrations, the
/// first Data Protection key, the first admin and roles. Each of those finds nothing and creates it; side by side,
/// a second node's start failed on a migration the first had just applied (EF Core's own migration lock did not
/// stop it: 42701, column already exists, on a fresh database), a second admin would fail on its unique name and a
/// second key could stay unknown to the first node for a day (see <see cref="SharedKeyRing"/>).
/// A session-level advisory lock on a connection of its own, unpooled so that closing it ends the session:
/// PostgreSQL releases the lock if this process dies holding it.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>"WHK_INIT" in ASCII; nothing else takes this advisory lock.</summary>
    private const long Key = 0x57484B5F494E4954;

    private readonly NpgsqlConnection _connection;

    private StartupLock(NpgsqlConnection connection) => _connection = connection;

    public static async Task<StartupLock> AcquireAsync(string connectionString, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", Key);
            await command.ExecuteNonQueryAsync(ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return new StartupLock(connection);
    }

    /// <summary>Closing the session releases the lock; no unlock statement that could fail first.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
