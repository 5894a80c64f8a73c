using Microsoft.EntityFrameworkCore;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// Nodes starting at once on one PostgreSQL database take turns at the start's check-then-create steps (the first
/// admin and roles, the first Data Protection key): each would otherwise find nothing and create its own, and
/// the loser's start fails on a unique name or leaves a second key. A session-level advisory lock on the context's
/// connection, released when disposed or by PostgreSQL when the process dies holding it.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>"WHK_INIT" in ASCII; nothing else takes this advisory lock.</summary>
    private const long Key = 0x57484B5F494E4954;

    private readonly WebhookHubDbContext _db;

    private StartupLock(WebhookHubDbContext db) => _db = db;

    public static async Task<StartupLock> AcquireAsync(WebhookHubDbContext db, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock({0})", [Key], ct);
        }
        catch
        {
            await db.Database.CloseConnectionAsync();
            throw;
        }
        return new StartupLock(db);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock({0})", [Key]);
        }
        finally
        {
            await _db.Database.CloseConnectionAsync();
        }
    }
}
