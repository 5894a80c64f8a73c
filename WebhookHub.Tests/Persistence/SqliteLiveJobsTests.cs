using Hangfire;
using Microsoft.Data.Sqlite;
using WebhookHub.Core;
using WebhookHub.Core.Persistence.Sqlite;

namespace WebhookHub.Tests.Persistence;

/// <summary>
/// What crash recovery counts as a live job on hangfire.db: only a job something will run. The package commits a
/// state change statement by statement, so a killed process can leave a job named Enqueued without its queue row, or
/// Scheduled without its schedule entry; those are owed a new job at start, not left to the minutely overdue sweep.
/// </summary>
public sealed class SqliteLiveJobsTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"hangfire-live-{Guid.NewGuid():n}.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(_file + suffix);
    }

    [Fact]
    public void A_job_whose_state_was_written_without_its_queue_row_or_schedule_entry_is_not_live()
    {
        var store = new SqliteJobStore(_file, new HangfireSettings());
        var client = new BackgroundJobClient(store.Storage);
        var enqueued = client.Enqueue(() => Console.WriteLine("enqueued"));
        var scheduled = client.Schedule(() => Console.WriteLine("scheduled"), TimeSpan.FromMinutes(5));
        var halfEnqueued = client.Enqueue(() => Console.WriteLine("half enqueued"));
        var halfScheduled = client.Schedule(() => Console.WriteLine("half scheduled"), TimeSpan.FromMinutes(5));

        // What a kill between two statements of the package's commit leaves.
        Execute($"DELETE FROM JobQueue WHERE JobId = {halfEnqueued}");
        Execute($"DELETE FROM \"Set\" WHERE Key = 'schedule' AND Value = '{halfScheduled}'");

        var live = store.LiveJobIds();
        Assert.Contains(enqueued, live);
        Assert.Contains(scheduled, live);
        Assert.DoesNotContain(halfEnqueued, live);
        Assert.DoesNotContain(halfScheduled, live);
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_file};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
