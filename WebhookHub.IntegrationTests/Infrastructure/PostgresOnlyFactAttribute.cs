namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// A test of something only PostgreSQL has (several nodes on one database): on the SQLite run it is skipped
/// with the reason, so the count shows it.
/// </summary>
public sealed class PostgresOnlyFactAttribute : FactAttribute
{
    public PostgresOnlyFactAttribute(string reason)
    {
        if (!TestDatabase.IsPostgres) Skip = "PostgreSQL only: " + reason;
    }
}
