namespace WebhookHub.Tests.Persistence;

/// <summary>
/// A test that needs a real PostgreSQL server: it runs when <c>WEBHOOKHUB_TEST_POSTGRES</c> holds a server
/// connection string without a database (<c>Host=127.0.0.1;Port=56100;Username=postgres</c>; the CI script
/// sets it), and is skipped with that reason otherwise.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public const string ServerVariable = "WEBHOOKHUB_TEST_POSTGRES";

    public static string? Server => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server ? server : null;

    public PostgresFactAttribute()
    {
        if (Server is null) Skip = $"needs PostgreSQL: set {ServerVariable} to a server connection string without Database (e.g. Host=127.0.0.1;Port=5432;Username=postgres)";
    }
}
