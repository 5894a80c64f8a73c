namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// A test of something only the SQLite provider has (its files, its pragmas, its job store's lock): on the
/// PostgreSQL run (<see cref="TestDatabase.IsPostgres"/>) it is skipped with the reason, so the count shows it.
/// </summary>
public sealed class SqliteOnlyFactAttribute : FactAttribute
{
    public SqliteOnlyFactAttribute(string reason)
    {
        if (TestDatabase.IsPostgres) Skip = "SQLite only: " + reason;
    }
}
