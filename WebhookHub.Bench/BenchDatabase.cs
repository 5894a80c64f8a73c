using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Postgres;
using WebhookHub.Core.Persistence.Sqlite;

namespace WebhookHub.Bench;

public enum BenchProvider { Sqlite, Postgres }

/// <summary>
/// The database of one bench run: SQLite files in a fresh temp folder, or a fresh PostgreSQL database on the
/// server named by <c>--postgres '&lt;connection string without Database&gt;'</c> or <c>WEBHOOKHUB_BENCH_POSTGRES</c>,
/// dropped when the run ends. <c>--provider sqlite|postgres|both</c> chooses (default sqlite).
/// </summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    public const string ServerVariable = "WEBHOOKHUB_BENCH_POSTGRES";

    private readonly string? _server;
    private readonly string? _name;

    private BenchDatabase(BenchProvider provider, string dataDirectory, string? server, string? name)
    {
        Provider = provider;
        DataDirectory = dataDirectory;
        _server = server;
        _name = name;
    }

    public BenchProvider Provider { get; }

    /// <summary>The app's data directory (keys; on SQLite also app.db and hangfire.db).</summary>
    public string DataDirectory { get; }

    public string? ConnectionString => _server is null ? null : new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ConnectionString;

    public static IReadOnlyList<BenchProvider> Providers(string[] args) => Value(args, "--provider")?.ToLowerInvariant() switch
    {
        null or "sqlite" => [BenchProvider.Sqlite],
        "postgres" => [BenchProvider.Postgres],
        "both" => [BenchProvider.Sqlite, BenchProvider.Postgres],
        var other => throw new ArgumentException($"--provider {other}: expected sqlite, postgres or both."),
    };

    public static async Task<BenchDatabase> CreateAsync(BenchProvider provider, string[] args, string purpose)
    {
        var suffix = Guid.NewGuid().ToString("n")[..8];
        var directory = Path.Combine(Path.GetTempPath(), $"webhookhub-{purpose}-{suffix}");
        Directory.CreateDirectory(directory);
        if (provider == BenchProvider.Sqlite) return new BenchDatabase(provider, directory, null, null);

        var server = Value(args, "--postgres") ?? Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(server))
            throw new ArgumentException($"--provider postgres needs a server: --postgres 'Host=…;Port=…;Username=…' or {ServerVariable}.");
        var name = $"webhookhub_{purpose}_{suffix}";
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new BenchDatabase(provider, directory, server, name);
    }

    /// <summary>The app's settings for this database (<c>WebhookHub:Database:Provider</c>, <c>ConnectionStrings:WebhookHub</c>).</summary>
    public Dictionary<string, string> AppSettings() => Provider == BenchProvider.Sqlite
        ? new() { ["WebhookHub:Database:Provider"] = "Sqlite" }
        : new() { ["WebhookHub:Database:Provider"] = "Postgres", ["ConnectionStrings:WebhookHub"] = ConnectionString! };

    public DbContextOptions<WebhookHubDbContext> DbContextOptions()
    {
        var options = new DbContextOptionsBuilder<WebhookHubDbContext>();
        if (Provider == BenchProvider.Sqlite) options.UseWebhookHubSqlite(Path.Combine(DataDirectory, "app.db"));
        else options.UseWebhookHubPostgres(ConnectionString!);
        return options.Options;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_server) { Database = "postgres", Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
        try { Directory.Delete(DataDirectory, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    public static double Option(string[] args, string name, double fallback) =>
        Value(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
}
