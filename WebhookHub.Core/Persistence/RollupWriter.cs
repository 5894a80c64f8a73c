using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// Adds <see cref="Rollup"/> rows into <c>webhook_rollups</c>: a prepared
/// <c>INSERT … ON CONFLICT (webhook_id, span_minutes, start) DO UPDATE SET c = c + excluded.c</c> per row,
/// in the caller's transaction (<see cref="RowWriter"/>'s, with the attempt rows). That statement is the
/// same on SQLite and PostgreSQL, and it only adds, so two writers (two nodes, later) never lose a count.
/// Most rows of a fan-out batch hold one attempt, so one latency bucket: those use a statement naming
/// only that bucket's column (7 values, not 67), which made the upsert several times cheaper.
/// Column names and conversions come from the EF model, as in <see cref="RowWriter"/>. On PostgreSQL,
/// <see cref="PostgresRollupWriter"/> upserts the whole batch in one statement instead.
/// </summary>
public sealed class RollupWriter(WebhookHubDbContext db)
{
    private readonly PostgresRollupWriter? _postgres = db.Database.IsNpgsql() ? new PostgresRollupWriter(db) : null;

    private const int AllBuckets = -1;
    private static readonly Dictionary<int, Statement> Statements = [];
    private static long _cpuTicks, _rows;

    /// <summary>Rows upserted so far and the CPU time (of the writing thread) spent on it, process-wide: the benchmark reports the rollup's share of a fan-out.</summary>
    public static (long Rows, TimeSpan Cpu) Totals => (Interlocked.Read(ref _rows), TimeSpan.FromTicks(Interlocked.Read(ref _cpuTicks)));

    public async Task AddAsync(IReadOnlyCollection<Rollup> rollups, CancellationToken ct)
    {
        if (rollups.Count == 0) return;
        if (_postgres is not null)
        {
            await _postgres.AddAsync(rollups, ct);
            Interlocked.Add(ref _rows, rollups.Count);
            return;
        }
        var cpu = ThreadCpu.Now();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var outer = db.Database.CurrentTransaction;
            var transaction = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
            try
            {
                foreach (var group in rollups.GroupBy(SingleBucket))
                {
                    var statement = StatementFor(group.Key);
                    await using var command = db.Database.GetDbConnection().CreateCommand();
                    command.CommandText = statement.Sql;
                    command.Transaction = (outer ?? transaction)!.GetDbTransaction();
                    var parameters = statement.Columns.Select((c, i) => c.Mapping.CreateParameter(command, "@p" + i, null, nullable: false)).ToArray();
                    command.Parameters.AddRange(parameters);
                    command.Prepare();
                    foreach (var rollup in group)
                    {
                        for (var i = 0; i < parameters.Length; i++)
                            parameters[i].Value = statement.Columns[i].Value(rollup);
                        await command.ExecuteNonQueryAsync(ct);
                    }
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
            // SQLite works synchronously on the calling thread, so its CPU is this thread's (a hop to another thread would show as 0 here, never as double).
            Interlocked.Add(ref _cpuTicks, Math.Max(0, ThreadCpu.Now() - cpu));
            Interlocked.Add(ref _rows, rollups.Count);
        }
    }

    /// <summary>The one bucket a row has attempts in, or <see cref="AllBuckets"/>.</summary>
    private static int SingleBucket(Rollup rollup)
    {
        var found = AllBuckets;
        for (var k = 0; k < rollup.Latency.Length; k++)
        {
            if (rollup.Latency[k] == 0) continue;
            if (found != AllBuckets) return AllBuckets;
            found = k;
        }
        return found;
    }

    private Statement StatementFor(int bucket)
    {
        lock (Statements)
        {
            if (!Statements.TryGetValue(bucket, out var statement))
                Statements[bucket] = statement = Statement.For(db.Model.FindEntityType(typeof(Rollup))!, bucket);
            return statement;
        }
    }

    private sealed record Column(string Name, RelationalTypeMapping Mapping, Func<Rollup, object> Read, bool Key)
    {
        public object Value(Rollup rollup)
        {
            var value = Read(rollup);
            return Mapping.Converter is { } converter ? converter.ConvertToProvider(value)! : value;
        }
    }

    private sealed record Statement(string Sql, Column[] Columns)
    {
        public static Statement For(IEntityType entity, int bucket)
        {
            Column Map(string property, Func<Rollup, object> read, bool key = false)
            {
                var p = entity.FindProperty(property)!;
                return new Column(p.GetColumnName(), (RelationalTypeMapping)p.GetRelationalTypeMapping(), read, key);
            }
            var buckets = bucket == AllBuckets ? Enumerable.Range(0, LatencyHistogram.Buckets) : [bucket];
            Column[] columns =
            [
                Map(nameof(Rollup.WebhookId), r => r.WebhookId, key: true),
                Map(nameof(Rollup.SpanMinutes), r => r.SpanMinutes, key: true),
                Map(nameof(Rollup.Start), r => r.Start, key: true),
                Map(nameof(Rollup.Succeeded), r => r.Succeeded),
                Map(nameof(Rollup.Retrying), r => r.Retrying),
                Map(nameof(Rollup.Failed), r => r.Failed),
                Map(nameof(Rollup.DurationSumMs), r => r.DurationSumMs),
                .. buckets.Select(k => Map(LatencyHistogram.Property(k), r => r.Latency[k])),
            ];
            // Columns left out of the INSERT take their default, 0.
            var table = Quote(entity.GetTableName()!);
            var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
            var values = string.Join(", ", columns.Select((_, i) => "@p" + i));
            var keys = string.Join(", ", columns.Where(c => c.Key).Select(c => Quote(c.Name)));
            var sums = string.Join(", ", columns.Where(c => !c.Key).Select(c => $"{Quote(c.Name)} = {table}.{Quote(c.Name)} + excluded.{Quote(c.Name)}"));
            return new Statement($"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT ({keys}) DO UPDATE SET {sums}", columns);
        }

        private static string Quote(string name) => "\"" + name + "\"";
    }

    /// <summary>The calling thread's CPU time in ticks (Linux; elsewhere wall time, an upper bound).</summary>
    private static class ThreadCpu
    {
        private const int ClockThreadCpuTime = 3;

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        public static long Now()
        {
            if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTime, out var t) == 0)
                return t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100;
            return Stopwatch.GetTimestamp() * TimeSpan.TicksPerSecond / Stopwatch.Frequency;
        }
    }
}
