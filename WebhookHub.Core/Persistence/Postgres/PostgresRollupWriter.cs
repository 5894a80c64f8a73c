using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// <see cref="RollupWriter"/> on PostgreSQL: every row of a batch in one
/// <c>INSERT … SELECT * FROM unnest(…) ON CONFLICT (webhook_id, span_minutes, start) DO UPDATE SET c = c + excluded.c</c>,
/// one round trip instead of one per row (300 rows: 78 ms row by row). Two rows with the same key in one
/// statement would make it update a row twice, which PostgreSQL refuses, so they are added up first (counts
/// only add). Rows go in key order: concurrent writers (PostgreSQL has no write gate) then lock the rows they
/// share in the same order, and wait for each other instead of deadlocking.
/// </summary>
internal sealed class PostgresRollupWriter(DbContext db)
{
    private static readonly Lock StatementLock = new();
    private static (string Sql, PostgresRowWriter.Column[] Columns)? _statement;

    public async Task AddAsync(IReadOnlyCollection<Rollup> rollups, CancellationToken ct)
    {
        if (rollups.Count == 0) return;
        var (sql, columns) = Statement();
        var rows = Merged(rollups);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = (NpgsqlCommand)db.Database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < columns.Length; i++)
                command.Parameters.Add(new NpgsqlParameter("p" + i, columns[i].Values(rows)));
            // Prepared once per physical connection (Npgsql keeps it across pooling): no parse and plan per batch.
            await command.PrepareAsync(ct);
            await command.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>One row per key, in key order.</summary>
    private static List<Rollup> Merged(IReadOnlyCollection<Rollup> rollups)
    {
        var merged = new Dictionary<(Guid, int, DateTime), Rollup>(rollups.Count);
        foreach (var r in rollups)
        {
            if (!merged.TryGetValue((r.WebhookId, r.SpanMinutes, r.Start), out var sum))
                merged[(r.WebhookId, r.SpanMinutes, r.Start)] = sum = new Rollup { WebhookId = r.WebhookId, SpanMinutes = r.SpanMinutes, Start = r.Start };
            sum.Succeeded += r.Succeeded;
            sum.Retrying += r.Retrying;
            sum.Failed += r.Failed;
            sum.DurationSumMs += r.DurationSumMs;
            for (var k = 0; k < sum.Latency.Length; k++) sum.Latency[k] += r.Latency[k];
        }
        return merged.Values.OrderBy(r => r.WebhookId).ThenBy(r => r.SpanMinutes).ThenBy(r => r.Start).ToList();
    }

    private (string Sql, PostgresRowWriter.Column[] Columns) Statement()
    {
        lock (StatementLock) return _statement ??= Build(db.Model.FindEntityType(typeof(Rollup))!);
    }

    private static (string, PostgresRowWriter.Column[]) Build(IEntityType entity)
    {
        PostgresRowWriter.Column Map(string property, Func<Rollup, object> read) =>
            PostgresRowWriter.Column.For(entity.FindProperty(property)!, row => read((Rollup)row));
        PostgresRowWriter.Column[] keys =
        [
            Map(nameof(Rollup.WebhookId), r => r.WebhookId),
            Map(nameof(Rollup.SpanMinutes), r => r.SpanMinutes),
            Map(nameof(Rollup.Start), r => r.Start),
        ];
        PostgresRowWriter.Column[] sums =
        [
            Map(nameof(Rollup.Succeeded), r => r.Succeeded),
            Map(nameof(Rollup.Retrying), r => r.Retrying),
            Map(nameof(Rollup.Failed), r => r.Failed),
            Map(nameof(Rollup.DurationSumMs), r => r.DurationSumMs),
            .. Enumerable.Range(0, LatencyHistogram.Buckets).Select(k => Map(LatencyHistogram.Property(k), r => r.Latency[k])),
        ];
        PostgresRowWriter.Column[] columns = [.. keys, .. sums];
        var table = PostgresRowWriter.Quote(entity.GetTableName()!);
        var names = string.Join(", ", columns.Select(c => PostgresRowWriter.Quote(c.Name)));
        var arrays = string.Join(", ", columns.Select((c, i) => c.ArrayParameter(i)));
        var conflict = string.Join(", ", keys.Select(c => PostgresRowWriter.Quote(c.Name)));
        var add = string.Join(", ", sums.Select(c => $"{PostgresRowWriter.Quote(c.Name)} = {table}.{PostgresRowWriter.Quote(c.Name)} + excluded.{PostgresRowWriter.Quote(c.Name)}"));
        return ($"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT ({conflict}) DO UPDATE SET {add}", columns);
    }
}
