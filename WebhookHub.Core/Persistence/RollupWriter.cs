using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// Adds <see cref="MinuteRollup"/> rows into <c>webhook_minute_rollups</c>: one prepared
/// <c>INSERT … ON CONFLICT (webhook_id, minute) DO UPDATE SET c = c + excluded.c</c> per row, in the
/// caller's transaction (<see cref="RowWriter"/>'s, with the attempt rows). That statement is the same
/// on SQLite and PostgreSQL, and it only adds, so two writers (two nodes, later) can never lose a count.
/// Column names and conversions come from the EF model, as in <see cref="RowWriter"/>.
/// </summary>
public sealed class RollupWriter(WebhookHubDbContext db)
{
    private static Statement? _statement;
    private static long _ticks, _rows;

    /// <summary>Rows upserted so far and the time spent doing it, process-wide: the benchmark reports the rollup's share of a fan-out.</summary>
    public static (long Rows, TimeSpan Spent) Totals => (Interlocked.Read(ref _rows), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks)));

    public async Task AddAsync(IReadOnlyCollection<MinuteRollup> rollups, CancellationToken ct)
    {
        if (rollups.Count == 0) return;
        var started = Stopwatch.GetTimestamp();
        var statement = _statement ??= Statement.For(db.Model.FindEntityType(typeof(MinuteRollup))!);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var outer = db.Database.CurrentTransaction;
            var transaction = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
            try
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = statement.Sql;
                command.Transaction = (outer ?? transaction)!.GetDbTransaction();
                var parameters = statement.Columns.Select((c, i) => c.Mapping.CreateParameter(command, "@p" + i, null, nullable: false)).ToArray();
                command.Parameters.AddRange(parameters);
                command.Prepare();
                foreach (var rollup in rollups)
                {
                    for (var i = 0; i < parameters.Length; i++)
                        parameters[i].Value = statement.Columns[i].Value(rollup);
                    await command.ExecuteNonQueryAsync(ct);
                }
                if (transaction is not null) await transaction.CommitAsync(ct);
            }
            finally
            {
                if (transaction is not null) await transaction.DisposeAsync();
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - started);
            Interlocked.Add(ref _rows, rollups.Count);
        }
    }

    private sealed record Column(string Name, RelationalTypeMapping Mapping, Func<MinuteRollup, object> Read, bool Key)
    {
        public object Value(MinuteRollup rollup)
        {
            var value = Read(rollup);
            return Mapping.Converter is { } converter ? converter.ConvertToProvider(value)! : value;
        }
    }

    private sealed record Statement(string Sql, Column[] Columns)
    {
        public static Statement For(IEntityType entity)
        {
            Column Map(string property, Func<MinuteRollup, object> read, bool key = false)
            {
                var p = entity.FindProperty(property)!;
                return new Column(p.GetColumnName(), (RelationalTypeMapping)p.GetRelationalTypeMapping(), read, key);
            }
            Column[] columns =
            [
                Map(nameof(MinuteRollup.WebhookId), r => r.WebhookId, key: true),
                Map(nameof(MinuteRollup.Minute), r => r.Minute, key: true),
                Map(nameof(MinuteRollup.Succeeded), r => r.Succeeded),
                Map(nameof(MinuteRollup.Retrying), r => r.Retrying),
                Map(nameof(MinuteRollup.Failed), r => r.Failed),
                Map(nameof(MinuteRollup.DurationSumMs), r => r.DurationSumMs),
                .. Enumerable.Range(0, LatencyHistogram.Buckets).Select(k => Map(LatencyHistogram.Property(k), r => r.Latency[k])),
            ];
            var table = Quote(entity.GetTableName()!);
            var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
            var values = string.Join(", ", columns.Select((_, i) => "@p" + i));
            var keys = string.Join(", ", columns.Where(c => c.Key).Select(c => Quote(c.Name)));
            var sums = string.Join(", ", columns.Where(c => !c.Key).Select(c => $"{Quote(c.Name)} = {table}.{Quote(c.Name)} + excluded.{Quote(c.Name)}"));
            return new Statement($"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT ({keys}) DO UPDATE SET {sums}", columns);
        }

        private static string Quote(string name) => "\"" + name + "\"";
    }
}
