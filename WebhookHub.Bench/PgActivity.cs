using Npgsql;

namespace WebhookHub.Bench;

/// <summary>
/// Samples <c>pg_stat_activity</c> of one database every 50 ms while a phase runs: how many of its sessions were
/// running (no wait event: on a CPU or waiting for one) and how many waited, on what (a row lock, a client that
/// has not sent its next statement inside a transaction, …). Tells a server bound by CPU from one bound by locks.
/// </summary>
public sealed class PgActivity : IAsyncDisposable
{
    private readonly Dictionary<string, int> _seen = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _samples;

    private PgActivity(string connectionString) => _sampling = SampleAsync(connectionString);

    public static PgActivity Start(string connectionString) => new(connectionString);

    private async Task SampleAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            // A lock wait is told by the statement that waits (its first words name the table).
            "SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'running') ELSE state END " +
            "|| CASE WHEN wait_event_type = 'Lock' THEN ' (' || left(regexp_replace(query, '\\s+', ' ', 'g'), 40) || '…)' ELSE '' END " +
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' " +
            "AND state IN ('active', 'idle in transaction')", connection);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await using (var reader = await command.ExecuteReaderAsync(_stop.Token))
                    while (await reader.ReadAsync(_stop.Token))
                    {
                        var what = reader.GetString(0);
                        _seen[what] = _seen.GetValueOrDefault(what) + 1;
                    }
                _samples++;
                await Task.Delay(50, _stop.Token);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Stops sampling; the mean number of sessions in each state, busiest first.</summary>
    public async Task<string> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        var samples = Math.Max(1, _samples);
        var total = _seen.Values.Sum() / (double)samples;
        return $"mean {total:0.0} sessions busy ({_samples} samples): " +
               string.Join(", ", _seen.OrderByDescending(s => s.Value).Take(6).Select(s => $"{s.Key} {s.Value / (double)samples:0.00}"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
