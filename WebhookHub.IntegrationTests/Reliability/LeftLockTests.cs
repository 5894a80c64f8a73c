using System.Diagnostics;
using Npgsql;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>
/// A node SIGKILLed while it held a Hangfire lock leaves the lock row on the shared database until it expires (30 s).
/// Its restart must serve at once and not crash on it: CI once saw a restart exit with 134 because registering the
/// recurring jobs timed out on the lock the killed process's scheduler held. (SQLite drops its locks at start: one
/// process per file.)
/// </summary>
public sealed class LeftLockTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "webhookhub-lock", Guid.NewGuid().ToString("n"));

    [PostgresOnlyFact("locks outlive a killed process only on a shared database")]
    public async Task A_restart_beside_a_lock_left_by_a_killed_node_serves_at_once_and_registers_the_jobs_once_it_is_free()
    {
        var settings = TestDatabase.PrepareProcess(_data, new Dictionary<string, string> { ["WebhookHub__Retention__Cron"] = "42 3 * * *" });
        // Stamped an hour ahead, so it does not expire while the test looks: the test, not the clock, frees it.
        Execute("INSERT INTO hangfire.lock (resource, acquired) VALUES ('hangfire:lock:recurring-job:retention', (now() + interval '1 hour') AT TIME ZONE 'UTC')");

        var started = Stopwatch.StartNew();
        await using var app = await AppProcess.StartAsync(_data, settings);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(25), $"the start took {started.Elapsed.TotalSeconds:0} s: it waited for the lock");
        // Hangfire's registration gives up on a lock after 15 s; then the warning, and another try.
        await Eventually.True(() => app.Output.Any(line => line.Contains("Recurring jobs not registered yet")), "the warning about the lock");
        Assert.Null(RetentionCron());

        Execute("DELETE FROM hangfire.lock WHERE resource = 'hangfire:lock:recurring-job:retention'");
        await Eventually.True(() => RetentionCron() == "42 3 * * *", "the purge registered once the lock is free", TimeSpan.FromSeconds(20));
        using var health = await app.ApiClient().GetAsync("/health");
        Assert.True(health.IsSuccessStatusCode);
    }

    private string? RetentionCron()
    {
        using var db = TestDatabase.OpenReadOnly(_data);
        using var command = db.CreateCommand();
        command.CommandText = "SELECT value FROM hangfire.hash WHERE key = 'recurring-job:retention' AND field = 'Cron'";
        return command.ExecuteScalar() as string;
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_data));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try { Directory.Delete(_data, recursive: true); }
        catch (IOException) { }
        await TestDatabase.DropAsync(_data);
    }
}
