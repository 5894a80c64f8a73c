using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WebhookHub.Core.Persistence.Sqlite;

/// <summary>
/// Copies app.db's write-ahead log into the database file once a second, on its own connection. SQLite
/// would otherwise do it inside whichever commit crosses 1,000 WAL pages, and with
/// <c>synchronous=NORMAL</c> a checkpoint is where the fsyncs happen: that commit held the write gate
/// while the disk synced, and every delivery waited (fan-out benchmark: the gate was busy 95% of the
/// time). Automatic checkpoints are off on every connection (<see cref="SqlitePragmas"/>). PASSIVE never
/// blocks a writer; a crash in between loses nothing, the log is replayed when the file is next opened.
/// </summary>
public sealed partial class WalCheckpointer(IServiceScopeFactory scopes, TimeProvider time, ILogger<WalCheckpointer> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await CheckpointAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // One last copy on the way out, so a stopped app leaves a short log.
        await CheckpointAsync(CancellationToken.None);
    }

    public async Task CheckpointAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(PASSIVE)", ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The log keeps growing until a checkpoint succeeds; reads stay correct meanwhile.
            LogCheckpointFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQLite checkpoint of app.db failed; will try again in a second")]
    private partial void LogCheckpointFailed(Exception e);
}
