using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// Every write of the app goes through here. On SQLite, one writer per file: writes queue in order and
/// hold no thread while they wait (<see cref="Sqlite.SqliteWriteGate"/>). On PostgreSQL they run at once
/// and the database orders concurrent transactions (<see cref="Postgres.OpenWriteGate"/>). Nothing may
/// rely on the gate for correctness: what must happen once is made so by a unique index.
/// </summary>
public interface IWriteGate
{
    /// <summary>Runs <paramref name="write"/>; an urgent one (a caller is waiting for it) goes ahead of queued writes where writes queue.</summary>
    Task<T> RunAsync<T>(Func<Task<T>> write, CancellationToken ct, bool urgent = false);

    Task RunAsync(Func<Task> write, CancellationToken ct) => RunAsync(async () => { await write(); return 0; }, ct);
}

public static class WriteGateExtensions
{
    public static Task<int> SaveChangesAsync(this IWriteGate gate, DbContext db, CancellationToken ct, bool urgent = false) =>
        gate.RunAsync(() => db.SaveChangesAsync(ct), ct, urgent);
}
