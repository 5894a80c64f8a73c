using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace WebhookHub.Core.Persistence;

/// <summary>Whether a write failed because a unique index already holds the row, on either provider.</summary>
public static class UniqueViolation
{
    public static bool Is(Exception e) => (e is DbUpdateException { InnerException: { } inner } ? inner : e) switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555, // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
