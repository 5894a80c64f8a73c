using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Npgsql;
using WebhookHub.Core;
using WebhookHub.Core.Persistence;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// Which database an app under test runs on. By default SQLite, in its data directory. When
/// <c>WEBHOOKHUB_TEST_POSTGRES</c> names a PostgreSQL server (<c>scripts/test.sh</c>'s second run, from
/// <c>scripts/pg.sh</c>), each data directory has its own database on it, named from the directory's path:
/// a second start on the same data directory (a restart after a crash, <see cref="WebhookHubApp.KeepData"/>)
/// opens the same database, as it would open the same app.db, and whoever deletes the data drops it.
/// </summary>
public static class TestDatabase
{
    public const string ServerVariable = "WEBHOOKHUB_TEST_POSTGRES";

    /// <summary>The server's connection string, without a database; null on SQLite.</summary>
    public static string? Server { get; } = Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server ? server : null;

    public static bool IsPostgres => Server is not null;

    /// <summary><c>whk_</c> and 32 hex digits of the path's hash: the same directory always gives the same name.</summary>
    public static string NameFor(string dataDirectory)
    {
        var path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        return "whk_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..32];
    }

    public static string ConnectionStringFor(string dataDirectory) =>
        new NpgsqlConnectionStringBuilder(RequireServer()) { Database = NameFor(dataDirectory) }.ConnectionString;

    /// <summary>The app's settings (configuration keys) that put it on this data directory's database; none on SQLite.</summary>
    public static IReadOnlyDictionary<string, string> AppSettings(string dataDirectory) => IsPostgres
        ? new Dictionary<string, string>
        {
            ["WebhookHub:Database:Provider"] = "Postgres",
            ["ConnectionStrings:WebhookHub"] = ConnectionStringFor(dataDirectory),
        }
        : new Dictionary<string, string>();

    /// <summary>
    /// For an <see cref="AppProcess"/> on this data directory: creates its database unless it exists and gives
    /// <paramref name="settings"/> plus the environment variables that point the app at it. AppProcess itself does
    /// not know about test databases: WebhookHub.Bench starts it too and picks its own provider.
    /// </summary>
    public static Dictionary<string, string> PrepareProcess(string dataDirectory, IReadOnlyDictionary<string, string> settings)
    {
        EnsureCreated(dataDirectory);
        var environment = AppSettings(dataDirectory).ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value);
        foreach (var (key, value) in settings) environment[key] = value;
        return environment;
    }

    /// <summary>
    /// Creates the data directory's database unless it exists: a copy of <see cref="Template"/>, which holds the app's
    /// tables and Hangfire's and nothing else, so each app skips some 1 s of schema set-up (some 60 apps a run); copied
    /// file by file (~0.1 s: the default, through the WAL, took ~0.6 s). With
    /// <paramref name="empty"/> the app makes its own tables, as on a first start in production.
    /// </summary>
    public static void EnsureCreated(string dataDirectory, bool empty = false)
    {
        if (!IsPostgres) return;
        try { ExecuteOnServer($"CREATE DATABASE \"{NameFor(dataDirectory)}\"" + (empty ? "" : $" TEMPLATE \"{Template.Value}\" STRATEGY FILE_COPY")); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase) { /* a second start on the same data */ }
    }

    /// <summary>
    /// A database with the schema the app's start-up makes (its migrations and Hangfire's), made once per test run
    /// by the app's own code and dropped when the run ends. No connection may stay open on it, or copies are refused.
    /// </summary>
    private static readonly Lazy<string> Template = new(() =>
    {
        var name = $"whk_template_{Environment.ProcessId}";
        ExecuteOnServer($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\"");
        var scratch = Path.Combine(Path.GetTempPath(), "webhookhub-template", Guid.NewGuid().ToString("n"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WebhookHub:DataDirectory"] = scratch,
            ["WebhookHub:Database:Provider"] = "Postgres",
            ["ConnectionStrings:WebhookHub"] = new NpgsqlConnectionStringBuilder(RequireServer()) { Database = name, Pooling = false }.ConnectionString,
        }).Build();
        using (var services = new ServiceCollection().AddLogging().AddWebhookHubCore(configuration).BuildServiceProvider())
        {
            using (var scope = services.CreateScope())
                scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>().Database.Migrate();
            services.GetRequiredService<JobStorage>().GetConnection().Dispose(); // Hangfire makes its schema on first use
        }
        Directory.Delete(scratch, recursive: true);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { ExecuteOnServer($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"); }
            catch (NpgsqlException) { /* the server went first; a throwaway cluster goes with its template */ }
        };
        return name;
    });

    /// <summary>Drops the data directory's database, closing whatever connections the app left open.</summary>
    public static async Task DropAsync(string dataDirectory)
    {
        if (!IsPostgres) return;
        await using var connection = OpenServer();
        await using var command = connection.CreateCommand();
        command.CommandText = $"DROP DATABASE IF EXISTS \"{NameFor(dataDirectory)}\" WITH (FORCE)";
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A read-only connection to the app's database beside the running app: app.db (WAL lets a reader in while
    /// it writes) or its PostgreSQL database. Portable SQL only; parameters as <c>@name</c>.
    /// </summary>
    public static DbConnection OpenReadOnly(string dataDirectory)
    {
        DbConnection connection = IsPostgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionStringFor(dataDirectory))
            {
                Options = "-c default_transaction_read_only=on",
                Pooling = false,
            }.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(dataDirectory, "app.db"),
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
                DefaultTimeout = 30,
            }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static void ExecuteOnServer(string sql)
    {
        using var connection = OpenServer();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static NpgsqlConnection OpenServer()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(RequireServer()) { Database = "postgres" }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static string RequireServer() =>
        Server ?? throw new InvalidOperationException($"{ServerVariable} is not set: this run is on SQLite");
}
