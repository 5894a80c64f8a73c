using Npgsql;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// PostgreSQL takes concurrent writers: every write runs at once, in its own transaction. A write the
/// database rolled back to break a deadlock or a serialization conflict is run again (it was undone
/// whole), a few times, after a short random pause; anything else fails the caller as usual.
/// </summary>
public sealed class OpenWriteGate : IWriteGate
{
    private const int Tries = 5;

    public async Task<T> RunAsync<T>(Func<Task<T>> write, CancellationToken ct, bool urgent = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (Exception e) when (attempt < Tries && RolledBackByConflict(e))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 * attempt)), ct);
            }
        }
    }

    private static bool RolledBackByConflict(Exception e) =>
        (e as PostgresException ?? e.InnerException as PostgresException)?.SqlState
            is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
}
