using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// <see cref="RowWriter"/> on PostgreSQL: a whole batch in one statement, one round trip. A prepared
/// statement per row cost a round trip each (100 attempt rows: 30 ms, against 3.6 ms on SQLite, where a
/// "round trip" is a function call). Each column's values go as one array parameter:
/// <c>INSERT … SELECT * FROM unnest(@p0::uuid[], @p1::text[], …)</c> and
/// <c>UPDATE t SET c = v.c … FROM unnest(…) AS v(…) WHERE t.id = v.id</c>. Columns and conversions come from
/// the EF model, as on SQLite (enums as lowercase text, Guids as uuid, DateTimes as UTC timestamptz).
/// </summary>
internal sealed class PostgresRowWriter(DbContext db)
{
    private static readonly ConcurrentDictionary<(Type, string), Statement> Statements = new();

    public Task InsertAsync<T>(IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        var statement = Statements.GetOrAdd((typeof(T), "insert"), _ => Statement.Insert(db.Model.FindEntityType(typeof(T))!));
        return ExecuteAsync(statement, rows, ct);
    }

    public Task UpdateAsync<T>(IReadOnlyCollection<T> rows, string[] properties, CancellationToken ct) where T : class
    {
        var statement = Statements.GetOrAdd((typeof(T), string.Join(',', properties)),
            _ => Statement.Update(db.Model.FindEntityType(typeof(T))!, properties));
        return ExecuteAsync(statement, rows, ct);
    }

    private async Task ExecuteAsync<T>(Statement statement, IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        if (rows.Count == 0) return;
        // One statement is atomic on its own; inside the caller's transaction it joins it (Npgsql has one per connection).
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = (NpgsqlCommand)db.Database.GetDbConnection().CreateCommand();
            command.CommandText = statement.Sql;
            for (var i = 0; i < statement.Columns.Length; i++)
                command.Parameters.Add(new NpgsqlParameter("p" + i, statement.Columns[i].Values(rows)));
            // Prepared once per physical connection (Npgsql keeps it across pooling): no parse and plan per batch.
            await command.PrepareAsync(ct);
            await command.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    internal sealed record Column(string Name, RelationalTypeMapping Mapping, Type ProviderType, Func<object, object?> Read)
    {
        public static Column For(IProperty property, Func<object, object?>? read = null)
        {
            var mapping = (RelationalTypeMapping)property.GetRelationalTypeMapping();
            var providerType = mapping.Converter?.ProviderClrType ?? mapping.ClrType;
            var clr = property.PropertyInfo;
            read ??= clr is null
                ? throw new NotSupportedException($"{property.DeclaringType.DisplayName()}.{property.Name} has no CLR property.")
                : clr.GetValue;
            // A nullable column of a value type needs an int?[] (say), so the array can hold NULLs.
            var element = providerType.IsValueType && property.IsNullable ? typeof(Nullable<>).MakeGenericType(providerType) : providerType;
            return new Column(property.GetColumnName(), mapping, element, read);
        }

        public object? Value(object entity)
        {
            var value = Read(entity);
            return value is not null && Mapping.Converter is { } converter ? converter.ConvertToProvider(value) : value;
        }

        /// <summary>This column of every row, as a typed array (uuid[], text[], timestamptz[] …).</summary>
        public Array Values<T>(IReadOnlyCollection<T> rows) where T : class
        {
            var values = Array.CreateInstance(ProviderType, rows.Count);
            var i = 0;
            foreach (var row in rows) values.SetValue(Value(row), i++);
            return values;
        }

        public string ArrayParameter(int index) => $"@p{index}::{Mapping.StoreType}[]";
    }

    private sealed record Statement(string Sql, Column[] Columns)
    {
        public static Statement Insert(IEntityType entity)
        {
            var columns = entity.GetProperties().Select(p => Column.For(p)).ToArray();
            var table = Quote(entity.GetTableName()!);
            var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
            var arrays = string.Join(", ", columns.Select((c, i) => c.ArrayParameter(i)));
            return new Statement($"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})", columns);
        }

        public static Statement Update(IEntityType entity, string[] properties)
        {
            var key = entity.FindPrimaryKey()!.Properties;
            var set = properties.Select(name => entity.FindProperty(name) ?? throw new ArgumentException($"{entity.DisplayName()} has no property {name}."));
            var columns = set.Concat(key).Select(p => Column.For(p)).ToArray();
            var table = Quote(entity.GetTableName()!);
            var assignments = string.Join(", ", columns.Take(properties.Length).Select(c => $"{Quote(c.Name)} = v.{Quote(c.Name)}"));
            var where = string.Join(" AND ", columns.Skip(properties.Length).Select(c => $"t.{Quote(c.Name)} = v.{Quote(c.Name)}"));
            var arrays = string.Join(", ", columns.Select((c, i) => c.ArrayParameter(i)));
            var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
            return new Statement($"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({names}) WHERE {where}", columns);
        }
    }

    internal static string Quote(string name) => "\"" + name + "\"";
}
