using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WebhookHub.Core;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;

namespace WebhookHub.Tests.Foundation;

/// <summary>
/// Commits never checkpoint (the fsync would hold SQLite's one writer); <see cref="WalCheckpointer"/>
/// copies the log into app.db beside them. Proven on the file itself: a copy of app.db without its
/// -wal file has the rows only after a checkpoint.
/// </summary>
public sealed class WalCheckpointerTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "webhookhub-tests", "wal-" + Guid.NewGuid().ToString("n"));
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["WebhookHub:DataDirectory"] = _directory })
            .Build();
        _services = new ServiceCollection().AddLogging().AddWebhookHubCore(configuration).BuildServiceProvider();
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>().Database.MigrateAsync();
        await CheckpointAsync();
    }

    public async Task DisposeAsync()
    {
        // This database's pool only, not ClearAllPools: tests beside this one keep their connections.
        await using (var scope = _services.CreateAsyncScope())
            SqliteConnection.ClearPool((SqliteConnection)scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>().Database.GetDbConnection());
        await _services.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Rows_reach_the_database_file_at_the_checkpoint_not_at_the_commit()
    {
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            for (var i = 0; i < 3000; i++)
                db.PolicyChanges.Add(new PolicyChange { Id = Guid.NewGuid(), Route = "r", Source = "s", Diff = new string('x', 2000), DetectedAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
            await db.Database.OpenConnectionAsync();
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "PRAGMA wal_autocheckpoint";
            Assert.Equal(0L, await command.ExecuteScalarAsync());
        }
        // Well over SQLite's default of 1,000 pages, which would have checkpointed inside the commit.
        Assert.True(new FileInfo(Path.Combine(_directory, "app.db-wal")).Length > 1000 * 4096);
        Assert.Equal(0, await ChangesInDatabaseFileAsync());

        await CheckpointAsync();

        Assert.Equal(3000, await ChangesInDatabaseFileAsync());
    }

    private Task CheckpointAsync() =>
        new WalCheckpointer(_services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<WalCheckpointer>.Instance)
            .CheckpointAsync(CancellationToken.None);

    /// <summary>Counts rows in a copy of app.db alone: what is in the database file, not in the log.</summary>
    private async Task<long> ChangesInDatabaseFileAsync()
    {
        var copy = Path.Combine(_directory, $"copy-{Guid.NewGuid():n}.db");
        File.Copy(Path.Combine(_directory, "app.db"), copy);
        await using var connection = new SqliteConnection($"Data Source={copy};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM policy_changes";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
