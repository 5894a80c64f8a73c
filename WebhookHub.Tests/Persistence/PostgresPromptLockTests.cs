using System.Diagnostics;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Hangfire.PostgreSql.Factories;
using WebhookHub.Core.Persistence.Postgres;
using Xunit.Abstractions;

namespace WebhookHub.Tests.Persistence;

/// <summary>
/// Hangfire's distributed locks on PostgreSQL: a waiter takes a released lock within a slice, not after the
/// package's one-second sleep (what made a burst of due retries late, see <see cref="PostgreSqlStorageWithPromptLocks"/>).
/// </summary>
public sealed class PostgresPromptLockTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private PostgreSqlStorage NewStorage()
    {
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
        return new PostgreSqlStorageWithPromptLocks(new NpgsqlConnectionFactory(database.ConnectionString, options), options);
    }

    [PostgresFact]
    public async Task A_released_lock_is_taken_by_the_waiter_within_a_fraction_of_a_second()
    {
        var storage = NewStorage();
        using var holder = storage.GetConnection();
        using var waiter = storage.GetConnection();
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 20; i++)
        {
            var held = holder.AcquireDistributedLock("job:1:state-lock", TimeSpan.FromMinutes(15));
            var waiting = Task.Run(() =>
            {
                using var _ = waiter.AcquireDistributedLock("job:1:state-lock", TimeSpan.FromMinutes(15));
                return Stopwatch.GetTimestamp();
            });
            // Long enough for the waiter's first try to fail, so it is asleep when the lock is released.
            await Task.Delay(TimeSpan.FromMilliseconds(30 + Random.Shared.Next(0, 40)));
            var at = Stopwatch.GetTimestamp();
            held.Dispose();
            var acquired = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            waits.Add(Stopwatch.GetElapsedTime(at, Math.Max(at, acquired)));
        }

        waits.Sort();
        output.WriteLine($"{waits.Count} hand-overs: p50 {waits[waits.Count / 2].TotalMilliseconds:0} ms, slowest {waits[^1].TotalMilliseconds:0} ms");
        // The package alone sleeps up to 1,000 ms after a failed try, so its median hand-over is ~500 ms.
        Assert.True(waits[waits.Count / 2] < TimeSpan.FromMilliseconds(200), $"median hand-over {waits[waits.Count / 2].TotalMilliseconds:0} ms");
    }

    [PostgresFact]
    public void A_lock_held_past_the_timeout_still_times_out()
    {
        var storage = NewStorage();
        using var holder = storage.GetConnection();
        using var waiter = storage.GetConnection();
        using var held = holder.AcquireDistributedLock("lock:busy", TimeSpan.FromSeconds(1));
        var started = Stopwatch.GetTimestamp();
        Assert.Throws<DistributedLockTimeoutException>(() => waiter.AcquireDistributedLock("lock:busy", TimeSpan.FromMilliseconds(400)));
        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(5));
    }
}
