using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Core.Delivery;

/// <summary>
/// Builds the minute rollups of a hub upgraded from a version without them, once, at start (before
/// anything records an attempt): when there are attempts but no rollup at all. Attempts are read in
/// time order and written a few thousand rollups at a time through <see cref="RollupWriter"/>, so
/// memory stays flat whatever the history's size. Rollups outlive attempts (400 days against 30), so
/// an empty rollup table beside attempts means the table is new.
/// </summary>
public sealed partial class RollupBackfill(
    WebhookHubDbContext db, IServiceScopeFactory scopes, SqliteWriteGate writes, ILogger<RollupBackfill> log)
{
    private const int FlushEvery = 5_000;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (await db.Rollups.AnyAsync(ct) || !await db.Attempts.AnyAsync(ct)) return 0;

        // Writes on a context (and connection) of their own while this one streams the attempts.
        await using var scope = scopes.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<RollupWriter>();
        var pending = new Dictionary<(Guid, DateTime), MinuteRollup>();
        var attempts = 0;
        await foreach (var a in db.Attempts.AsNoTracking().OrderBy(a => a.CreatedAt)
                           .Select(a => new { a.WebhookId, a.CreatedAt, a.Status, a.DurationMs }).AsAsyncEnumerable().WithCancellation(ct))
        {
            var minute = MinuteRollup.MinuteOf(a.CreatedAt);
            if (!pending.TryGetValue((a.WebhookId, minute), out var rollup))
                pending[(a.WebhookId, minute)] = rollup = new MinuteRollup { WebhookId = a.WebhookId, Minute = minute };
            rollup.Add(a.Status, a.DurationMs);
            attempts++;
            // A row flushed before its minute is over gets the rest added by a later upsert.
            if (pending.Count >= FlushEvery) await FlushAsync(writer, pending, ct);
        }
        await FlushAsync(writer, pending, ct);
        LogBackfilled(attempts);
        return attempts;
    }

    private async Task FlushAsync(RollupWriter writer, Dictionary<(Guid, DateTime), MinuteRollup> pending, CancellationToken ct)
    {
        var batch = pending.Values.ToList();
        pending.Clear();
        await writes.RunAsync(() => writer.AddAsync(batch, ct), ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Built minute rollups from {Attempts} existing attempts")]
    private partial void LogBackfilled(int attempts);
}
