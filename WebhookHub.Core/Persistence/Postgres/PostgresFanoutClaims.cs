using Microsoft.Extensions.Logging;
using Npgsql;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// <see cref="IFanoutClaims"/> on <c>policy_changes</c>: <c>fan_out_owner</c> and <c>fan_out_lease_until</c> (database
/// time), claimed with <c>FOR UPDATE SKIP LOCKED</c> so two workers never wait for each other or take the same change.
/// A trigger (migration <c>MultiNodeClaimsAndKeys</c>) sends <c>NOTIFY webhookhub_fanout</c> when a change is stored,
/// so workers claim it at once; they also look every second, which finds expired leases and anything a dropped
/// listener missed.
/// </summary>
public sealed partial class PostgresFanoutClaims(NpgsqlDataSource dataSource, string node, ILogger<PostgresFanoutClaims> log) : IFanoutClaims
{
    public const string Channel = "webhookhub_fanout";

    private static readonly string LeaseSql = $"interval '{(int)IFanoutClaims.Lease.TotalSeconds} seconds'";

    /// <summary>A failed run's change waits this long before any node tries it again (no hot loop on a poison change).</summary>
    private const string FailedBackOffSql = "interval '30 seconds'";

    public async Task<IReadOnlyList<Guid>> ClaimAsync(int max, CancellationToken ct)
    {
        if (max <= 0) return [];
        // The inner SELECT reads only ix_policy_changes_claimable (a partial index of what is not settled).
        var sql = $"""
            UPDATE policy_changes SET fan_out_owner = @node, fan_out_lease_until = now() + {LeaseSql}
            WHERE id IN (
                SELECT id FROM policy_changes
                WHERE (fanned_out_at IS NULL OR fan_out_lease_until IS NOT NULL)
                  AND ((fanned_out_at IS NULL AND fan_out_lease_until IS NULL) OR fan_out_lease_until < now())
                ORDER BY created_at
                LIMIT @max
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("node", node);
        command.Parameters.AddWithValue("max", max);
        var claimed = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) claimed.Add(reader.GetGuid(0));
        return claimed;
    }

    public async Task<IReadOnlyCollection<Guid>> RenewAsync(IReadOnlyCollection<Guid> policyChangeIds, CancellationToken ct)
    {
        if (policyChangeIds.Count == 0) return [];
        await using var command = dataSource.CreateCommand(
            $"UPDATE policy_changes SET fan_out_lease_until = now() + {LeaseSql} WHERE id = ANY(@ids) AND fan_out_owner = @node RETURNING id");
        command.Parameters.AddWithValue("ids", policyChangeIds.ToArray());
        command.Parameters.AddWithValue("node", node);
        var renewed = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) renewed.Add(reader.GetGuid(0));
        return renewed;
    }

    public async Task ReleaseAsync(Guid policyChangeId, bool failed, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(failed
            ? $"UPDATE policy_changes SET fan_out_lease_until = now() + {FailedBackOffSql} WHERE id = @id AND fan_out_owner = @node"
            : "UPDATE policy_changes SET fan_out_owner = NULL, fan_out_lease_until = NULL WHERE id = @id AND fan_out_owner = @node");
        command.Parameters.AddWithValue("id", policyChangeId);
        command.Parameters.AddWithValue("node", node);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task MarkOwedAsync(IReadOnlyCollection<Guid> policyChangeIds, CancellationToken ct)
    {
        if (policyChangeIds.Count == 0) return;
        await using var command = dataSource.CreateCommand(
            "UPDATE policy_changes SET fan_out_lease_until = now() WHERE id = ANY(@ids) AND fan_out_owner IS NULL AND fan_out_lease_until IS NULL");
        command.Parameters.AddWithValue("ids", policyChangeIds.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task TakeBackOwnAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE policy_changes SET fan_out_lease_until = now() WHERE fan_out_owner = @node AND fan_out_lease_until > now()");
        command.Parameters.AddWithValue("node", node);
        var taken = await command.ExecuteNonQueryAsync(ct);
        if (taken > 0) LogTakenBack(taken, node);
    }

    public async Task ListenAsync(Action wake, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                connection.Notification += (_, _) => wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(ct);
                wake(); // whatever was stored while this node was not listening
                while (!ct.IsCancellationRequested)
                {
                    // A quiet minute proves nothing about the connection: ask the server, so a dead one is noticed.
                    if (!await connection.WaitAsync(TimeSpan.FromSeconds(30), ct))
                        await using (var ping = new NpgsqlCommand("SELECT 1", connection))
                            await ping.ExecuteScalarAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Claims still happen every second meanwhile; only the instant wake-up is lost.
                LogListenFailed(e);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node} took back {Count} fan-out claims it held before a restart")]
    private partial void LogTakenBack(int count, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for stored changes failed; reconnecting (workers still look every second)")]
    private partial void LogListenFailed(Exception e);
}
