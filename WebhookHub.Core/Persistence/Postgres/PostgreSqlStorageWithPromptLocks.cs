using System.Diagnostics;
using Hangfire.PostgreSql;
using Hangfire.Storage;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// Hangfire.PostgreSql whose distributed locks are taken in short slices, so a lock that is freed is taken
/// within ~50 ms instead of after a second's sleep.
/// <para>
/// For the package's maintainers (frankhommers/Hangfire.PostgreSql, found in 1.21.1):
/// <c>PostgreSqlDistributedLock.LockHandler.Lock</c> tries to insert the lock row and, when it is taken,
/// sleeps <c>min(timeout - elapsed, 1000 ms)</c> before trying again. Hangfire takes a job's state lock when
/// the scheduler enqueues a due job and again when a worker moves it to Processing, so in a burst of due
/// retries the worker that lost that race waits a whole second: RetryStormTests (200 retries due in one
/// second) saw retries come 4–5 s after a 1 s schedule. A fix in the package: a short, growing poll
/// interval (e.g. 10 ms doubling to 1 s), or LISTEN/NOTIFY on release. Remove this class when that ships.
/// </para>
/// <para>
/// A lock not taken in time throws Hangfire's <see cref="DistributedLockTimeoutException"/>, as SQLite's storage and
/// Hangfire's contract do; the package throws its own exception type, which Hangfire's callers do not expect.
/// </para>
/// </summary>
public sealed class PostgreSqlStorageWithPromptLocks(IConnectionFactory connections, PostgreSqlStorageOptions options)
    : PostgreSqlStorage(connections, options)
{
    /// <summary>A try, a sleep of what is left of the slice, a second try: the package's own loop, bounded.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(50);

    public override IStorageConnection GetConnection()
    {
        // The base creates nothing until used; called for its one-time schema check.
        base.GetConnection().Dispose();
        return new Connection(this);
    }

    private sealed class Connection(PostgreSqlStorage storage) : PostgreSqlConnection(storage)
    {
        public override IDisposable AcquireDistributedLock(string resource, TimeSpan timeout)
        {
            var started = Stopwatch.GetTimestamp();
            while (true)
            {
                var left = timeout - Stopwatch.GetElapsedTime(started);
                try
                {
                    return base.AcquireDistributedLock(resource, left < Slice ? left : Slice);
                }
                catch (PostgreSqlDistributedLockException) when (Stopwatch.GetElapsedTime(started) < timeout)
                {
                }
                catch (PostgreSqlDistributedLockException)
                {
                    throw new DistributedLockTimeoutException(resource);
                }
            }
        }
    }
}
