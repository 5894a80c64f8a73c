using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// Builds the rollups (minute, hour, day) of a hub upgraded from a version without them, once, at start (before
/// anything records an attempt): when there are attempts but no rollup at all. Attempts are read in
/// time order and written a few thousand rollups at a time through <see cref="RollupWriter"/>, so
/// memory stays flat whatever the history's size. Rollups outlive attempts (400 days against 30), so
/// an empty rollup table beside attempts means the table is new.
/// </summary>
public sealed partial class RollupBackfill(
    WebhookHubDbContext db, IServiceScopeFactory scopes, IWriteGate writes, ILogger<RollupBackfill> log)
{
    private const int FlushEvery = 5_000;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (await db.Rollups.AnyAsync(ct) || !await db.Attempts.AnyAsync(ct)) return 0;

        // Writes on a context (and connection) of their own while this one streams the attempts.
        await using var scope = scopes.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<RollupWriter>();
        var pending = new Dictionary<(Guid, int, DateTime), Rollup>();
        var attempts = 0;
        await foreach (var a in db.Attempts.AsNoTracking().OrderBy(a => a.CreatedAt)
                           .Select(a => new { a.WebhookId, a.CreatedAt, a.Status, a.DurationMs }).AsAsyncEnumerable().WithCancellation(ct))
        {
            Rollup.AddTo(pending, a.WebhookId, a.CreatedAt, a.Status, a.DurationMs);
            attempts++;
            // A row flushed before its period is over gets the rest added by a later upsert.
            if (pending.Count >= FlushEvery) await FlushAsync(writer, pending, ct);
        }
        await FlushAsync(writer, pending, ct);
        LogBackfilled(attempts);
        return attempts;
    }

    private async Task FlushAsync(RollupWriter writer, Dictionary<(Guid, int, DateTime), Rollup> pending, CancellationToken ct)
    {
        var batch = pending.Values.ToList();
        pending.Clear();
        await writes.RunAsync(() => writer.AddAsync(batch, ct), ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Built rollups from {Attempts} existing attempts")]
    private partial void LogBackfilled(int attempts);
}
