namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>PostgreSQL takes concurrent writers: every write runs at once, in its own transaction.</summary>
public sealed class OpenWriteGate : IWriteGate
{
    public Task<T> RunAsync<T>(Func<Task<T>> write, CancellationToken ct, bool urgent = false) => write();
}
