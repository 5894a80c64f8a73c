using System.Diagnostics;
using Hangfire.Storage;
using Hangfire.Storage.SQLite;

namespace WebhookHub.Core.Persistence.Sqlite;

/// <summary>
/// Hangfire.Storage.SQLite whose distributed locks are taken in short slices, so a lock that is free is
/// taken within ~100 ms, never after a lost wake-up's sleep.
/// <para>
/// For the package's maintainers (raisedapp/Hangfire.Storage.SQLite, found in 0.4.3):
/// <c>SQLiteDistributedLock.Acquire</c> loops <c>if (TryAcquireLock()) return; lock (name) Monitor.Wait(name, timeout / 10);</c>
/// and <c>Release()</c> deletes the row, then <c>Monitor.Pulse</c>s. A pulse that lands between a waiter's
/// failed insert and its <c>Monitor.Wait</c> is lost, and the waiter sleeps <c>timeout / 10</c> although
/// the lock is free. Hangfire's state changer takes <c>job:N:state-lock</c> with a 15-minute timeout, so
/// the sleep is 90 s: a worker that fetches a retry the DelayedJobScheduler has just enqueued (it still
/// holds the job's state lock) parks that retry for 90 s. Seen in RetryStormTests (200 retries due in one
/// second) in about one round in six. A fix in the package: check-then-wait under the monitor, or a
/// bounded poll interval (e.g. min(timeout / 10, 100 ms)). Remove this class when that ships.
/// </para>
/// </summary>
public sealed class SQLiteStorageWithPromptLocks : SQLiteStorage
{
    private readonly SQLiteStorageOptions _options;

    public SQLiteStorageWithPromptLocks(SQLiteDbConnectionFactory connections, SQLiteStorageOptions options) : base(connections, options) =>
        _options = options;

    public override IStorageConnection GetConnection() => new Connection(CreateAndOpenConnection(), _options, QueueProviders);

    private sealed class Connection(HangfireDbContext db, SQLiteStorageOptions options, PersistentJobQueueProviderCollection queues)
        : HangfireSQLiteConnection(db, options, queues)
    {
        private readonly SQLiteStorageOptions _options = options;

        /// <summary>The package waits a tenth of the timeout it is given between tries: one second gives 100 ms.</summary>
        private static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);

        public override IDisposable AcquireDistributedLock(string resource, TimeSpan timeout)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var left = timeout - waited.Elapsed;
                var slice = left > Slice ? Slice : left > TimeSpan.Zero ? left : TimeSpan.Zero;
                try
                {
                    // The same resource name the package's own connection uses, so both kinds of lock exclude each other.
                    return SQLiteDistributedLock.Acquire("HangFire:" + resource, slice, DbContext, _options);
                }
                catch (DistributedLockTimeoutException) when (waited.Elapsed < timeout)
                {
                }
            }
        }
    }
}
