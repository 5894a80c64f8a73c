using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// SQLite has one writer at a time, and Microsoft.Data.Sqlite waits for the write lock synchronously
/// (busy_timeout sleeps on the calling thread). With twenty Hangfire workers and the API writing at
/// once, those sleeps ran on thread-pool threads and starved Kestrel and HttpClient. The pipeline's
/// writes queue here instead: asynchronously, in order, holding no thread.
/// </summary>
public sealed class SqliteWriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public Task<int> SaveChangesAsync(DbContext db, CancellationToken ct) => RunAsync(() => db.SaveChangesAsync(ct), ct);

    public Task RunAsync(Func<Task> write, CancellationToken ct) => RunAsync(async () => { await write(); return 0; }, ct);

    /// <summary>A read-then-write that must not interleave with another writer of this process (check, then insert).</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> write, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await write();
        }
        finally
        {
            _gate.Release();
        }
    }
}
