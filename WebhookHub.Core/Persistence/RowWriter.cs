using System.Collections.Concurrent;
using System.Data.Common;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using WebhookHub.Core.Persistence.Postgres;

namespace WebhookHub.Core.Persistence;

/// <summary>
/// Inserts or updates many rows of one entity type with one prepared statement in one transaction,
/// for the delivery hot path. There, EF Core's change tracking and command batching were 38% of the
/// process's CPU during a fan-out (perf, 10,000 deliveries), SQLite itself 6%. Table and column names
/// and every value conversion (enums as lowercase text, Guids as text) come from the EF model, so a
/// row is stored exactly as EF Core would store it and reads back through EF unchanged. The entities
/// are not tracked: callers hold them untracked (AsNoTracking, or never added to a context).
/// On PostgreSQL a statement per row is a round trip per row: <see cref="PostgresRowWriter"/> writes the
/// whole batch in one statement instead.
/// </summary>
public sealed class RowWriter(WebhookHubDbContext db)
{
    private static readonly ConcurrentDictionary<(Type, string), Statement> Statements = new();
    private readonly PostgresRowWriter? _postgres = db.Database.IsNpgsql() ? new PostgresRowWriter(db) : null;

    /// <summary>INSERT of every mapped column.</summary>
    public Task InsertAsync<T>(IReadOnlyCollection<T> rows, CancellationToken ct) where T : class =>
        _postgres is not null ? _postgres.InsertAsync(rows, ct) :
        ExecuteAsync(Statements.GetOrAdd((typeof(T), "insert"), _ => Statement.Insert(db.Model.FindEntityType(typeof(T))!)), rows, ct);

    /// <summary>
    /// UPDATE by primary key of the named properties only. Name only what the caller changed: a column
    /// written from a stale copy would undo another writer's change (a retry job finishing meanwhile).
    /// </summary>
    public Task UpdateAsync<T>(IReadOnlyCollection<T> rows, string[] properties, CancellationToken ct) where T : class =>
        _postgres is not null ? _postgres.UpdateAsync(rows, properties, ct) :
        ExecuteAsync(Statements.GetOrAdd((typeof(T), string.Join(',', properties)),
            _ => Statement.Update(db.Model.FindEntityType(typeof(T))!, properties)), rows, ct);

    private async Task ExecuteAsync<T>(Statement statement, IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        if (rows.Count == 0) return;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // Joins the caller's transaction (EF's, when there is one), or makes the rows one commit.
            var outer = db.Database.CurrentTransaction;
            var transaction = outer is null ? await db.Database.BeginTransactionAsync(ct) : null;
            try
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = statement.Sql;
                command.Transaction = (outer ?? transaction)!.GetDbTransaction();
                var parameters = statement.Columns.Select((c, i) => c.Mapping.CreateParameter(command, "@p" + i, null, nullable: true)).ToArray();
                command.Parameters.AddRange(parameters);
                command.Prepare();
                foreach (var row in rows)
                {
                    for (var i = 0; i < parameters.Length; i++)
                        parameters[i].Value = statement.Columns[i].ProviderValue(row);
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
        }
    }

    private sealed record Column(PropertyInfo Clr, RelationalTypeMapping Mapping)
    {
        public object ProviderValue(object entity)
        {
            var value = Clr.GetValue(entity);
            if (value is not null && Mapping.Converter is { } converter) value = converter.ConvertToProvider(value);
            return value ?? DBNull.Value;
        }
    }

    private sealed record Statement(string Sql, Column[] Columns)
    {
        public static Statement Insert(IEntityType entity)
        {
            var columns = Mapped(entity.GetProperties());
            var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
            var values = string.Join(", ", columns.Select((_, i) => "@p" + i));
            return new Statement($"INSERT INTO {Quote(entity.GetTableName()!)} ({names}) VALUES ({values})", columns.Select(c => c.Column).ToArray());
        }

        public static Statement Update(IEntityType entity, string[] properties)
        {
            var key = entity.FindPrimaryKey()!.Properties;
            var set = properties.Select(name => entity.FindProperty(name) ?? throw new ArgumentException($"{entity.DisplayName()} has no property {name}."));
            var columns = Mapped(set.Concat(key));
            var assignments = string.Join(", ", columns.Take(properties.Length).Select((c, i) => $"{Quote(c.Name)} = @p{i}"));
            var where = string.Join(" AND ", columns.Skip(properties.Length).Select((c, i) => $"{Quote(c.Name)} = @p{properties.Length + i}"));
            return new Statement($"UPDATE {Quote(entity.GetTableName()!)} SET {assignments} WHERE {where}", columns.Select(c => c.Column).ToArray());
        }

        private static (string Name, Column Column)[] Mapped(IEnumerable<IProperty> properties) => properties
            .Select(p => (p.GetColumnName(), new Column(
                p.PropertyInfo ?? throw new NotSupportedException($"{p.DeclaringType.DisplayName()}.{p.Name} has no CLR property."),
                (RelationalTypeMapping)p.GetRelationalTypeMapping())))
            .ToArray();

        private static string Quote(string name) => "\"" + name + "\"";
    }
}
