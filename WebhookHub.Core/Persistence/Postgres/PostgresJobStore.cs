using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// Hangfire on PostgreSQL, in its own schema (<c>hangfire</c>) of the app's database. A due job starts at
/// once: the server LISTENs for new work (<c>EnableLongPolling</c>) instead of waiting for its next poll.
/// A fetched job stays invisible while its worker lives (sliding invisibility timeout: the worker renews
/// it); a killed process's jobs come back after <see cref="InvisibilityTimeout"/>. So, unlike SQLite,
/// nothing is handed back at start: on a shared database another node may be running them. Its locks are
/// taken in short slices (<see cref="PostgreSqlStorageWithPromptLocks"/>): the package sleeps a second between tries.
/// </summary>
public sealed class PostgresJobStore(string connectionString, HangfireSettings settings) : IJobStore
{
    public const string Schema = "hangfire";
    public static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(20);

    private readonly Lazy<JobStorage> _storage = new(() => new PostgreSqlStorageWithPromptLocks(
        new NpgsqlConnectionFactory(connectionString, Options(settings)), Options(settings)));

    public JobStorage Storage => _storage.Value;

    private static PostgreSqlStorageOptions Options(HangfireSettings settings) => new()
    {
        SchemaName = Schema,
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = true,
        QueuePollInterval = TimeSpan.FromMilliseconds(settings.QueuePollIntervalMs),
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = InvisibilityTimeout,
        DistributedLockTimeout = TimeSpan.FromSeconds(30),
    };

    public void HandBackWorkOfDeadProcess()
    {
    }

    public IReadOnlySet<string> LiveJobIds()
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT to_regclass('{Schema}.job') IS NOT NULL";
        if (command.ExecuteScalar() is not true) return new HashSet<string>();
        command.CommandText = $"SELECT id FROM {Schema}.job WHERE statename IN ('Enqueued', 'Scheduled', 'Processing', 'Awaiting')";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read()) ids.Add(reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ids;
    }
}
