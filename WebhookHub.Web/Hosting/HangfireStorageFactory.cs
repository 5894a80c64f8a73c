using System.Text.Json;
using Hangfire.Storage.SQLite;
using SQLite;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Web.Hosting;

/// <summary>
/// Hangfire's SQLite storage, opened so that it survives what its defaults do not:
/// <list type="bullet">
/// <item>Connections are opened serialized (<c>FullMutex</c>): the package shares one connection between a
/// distributed lock's heartbeat timer and its owner, which with its default <c>NoMutex</c> crashes the
/// process with an AccessViolation (raisedapp/Hangfire.Storage.SQLite #79) and can corrupt the file (#65).</item>
/// <item>At start, jobs that a killed process had fetched are handed back at once and its locks dropped.
/// The package has no keep-alive for fetched jobs, so otherwise they would wait out the invisibility timeout
/// (30 min) and its locks their lifetime. Safe because one SQLite file serves one process: at start,
/// nothing else can be running them.</item>
/// </list>
/// </summary>
public static class HangfireStorageFactory
{
    private const SQLiteOpenFlags Flags = SQLiteOpenFlags.ReadWrite | SQLiteOpenFlags.Create | SQLiteOpenFlags.FullMutex;

    public static SQLiteStorage Create(string path, SQLiteStorageOptions options)
    {
        ReleaseWorkOfDeadProcess(path);
        return new SQLiteStorage(new SQLiteDbConnectionFactory(Open(path)), options);
    }

    private static Func<SQLiteConnection> Open(string path) => () =>
        new SQLiteConnection(path, Flags, storeDateTimeAsTicks: true) { BusyTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The jobs that will run on their own (enqueued, scheduled, processing — a processing job of a dead
    /// process is back in the queue by now), for the startup sweep. Read straight from the file: the
    /// package's monitoring API lists a queue only by rows it has not fetched and has no fetched list.
    /// </summary>
    public static LiveJobs ReadLiveJobs(string path)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var fanOuts = new HashSet<Guid>();
        if (!File.Exists(path)) return new LiveJobs(ids, fanOuts);
        using var db = Open(path)();
        if (db.ExecuteScalar<int>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'Job'") == 0)
            return new LiveJobs(ids, fanOuts);
        var rows = db.Query<LiveJobRow>(
            "SELECT Id, InvocationData, Arguments FROM Job WHERE StateName IN ('Enqueued', 'Scheduled', 'Processing', 'Awaiting')");
        foreach (var row in rows)
        {
            ids.Add(row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (FanOutChangeId(row) is { } changeId) fanOuts.Add(changeId);
        }
        return new LiveJobs(ids, fanOuts);
    }

    /// <summary>The policy change of a <c>DeliveryJob.FanOut</c> job; its first argument is stored as a JSON string holding a JSON string.</summary>
    private static Guid? FanOutChangeId(LiveJobRow row)
    {
        if (row.InvocationData is null || row.Arguments is null) return null;
        using var invocation = JsonDocument.Parse(row.InvocationData);
        if (!invocation.RootElement.TryGetProperty("Method", out var method) || method.GetString() != nameof(DeliveryJob.FanOut)
            || !invocation.RootElement.TryGetProperty("Type", out var type) || type.GetString()?.StartsWith(typeof(DeliveryJob).FullName + ",", StringComparison.Ordinal) != true)
            return null;
        using var arguments = JsonDocument.Parse(row.Arguments);
        if (arguments.RootElement.ValueKind != JsonValueKind.Array || arguments.RootElement.GetArrayLength() == 0) return null;
        var first = arguments.RootElement[0].GetString();
        return first is not null && Guid.TryParse(JsonSerializer.Deserialize<string>(first), out var id) ? id : null;
    }

    private sealed class LiveJobRow
    {
        public long Id { get; set; }
        public string? InvocationData { get; set; }
        public string? Arguments { get; set; }
    }

    private static void ReleaseWorkOfDeadProcess(string path)
    {
        if (!File.Exists(path)) return;
        using var db = Open(path)();
        if (db.ExecuteScalar<int>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('JobQueue', 'DistributedLock')") < 2)
            return;
        // FetchedAt is stored as ticks; DateTime.MinValue (0) means "waiting in the queue".
        db.Execute("UPDATE JobQueue SET FetchedAt = 0 WHERE FetchedAt <> 0");
        db.Execute("DELETE FROM DistributedLock");
    }
}
