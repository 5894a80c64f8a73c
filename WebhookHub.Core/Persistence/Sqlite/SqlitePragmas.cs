using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace WebhookHub.Core.Persistence.Sqlite;

/// <summary>
/// Per-connection SQLite settings: in WAL mode, <c>synchronous=NORMAL</c> is durable across a process
/// crash and makes each commit far cheaper; <c>busy_timeout</c> waits for a writer instead of failing;
/// no automatic checkpoints inside commits, <see cref="WalCheckpointer"/> does them beside the writers.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA wal_autocheckpoint=0;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
