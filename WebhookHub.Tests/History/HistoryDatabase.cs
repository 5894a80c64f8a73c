using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.History;

/// <summary>
/// A migrated app.db in a temp file with two webhooks, and attempts written the way
/// <c>AttemptRecorder.RecordAsync</c> writes them: <see cref="RowWriter"/> rows and <see cref="RollupWriter"/>
/// upserts in one transaction per batch. No app, no HTTP.
/// </summary>
public sealed class HistoryDatabase : IAsyncDisposable
{
    public static readonly DateTime Now = new(2026, 11, 30, 12, 30, 20, DateTimeKind.Utc);

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():n}.db");
    private readonly ServiceProvider _services;
    private int _events;

    public FakeTimeProvider Time { get; } = new(Now);
    public Webhook Orders { get; private set; } = null!;
    public Webhook Billing { get; private set; } = null!;
    public List<DeliveryAttempt> Attempts { get; } = [];

    private HistoryDatabase(WebhookHubOptions options)
    {
        var services = new ServiceCollection();
        services.AddDbContext<WebhookHubDbContext>(db => db.UseWebhookHubSqlite(_file));
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<IWriteGate, SqliteWriteGate>();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddScoped<RowWriter>();
        services.AddScoped<RollupWriter>();
        services.AddScoped<RollupBackfill>();
        services.AddScoped<DeliveryStats>();
        services.AddScoped<DeliveryHistory>();
        services.AddScoped<RetentionJob>();
        _services = services.BuildServiceProvider();
    }

    public static async Task<HistoryDatabase> CreateAsync(WebhookHubOptions? options = null)
    {
        var database = new HistoryDatabase(options ?? new WebhookHubOptions());
        await using var scope = database.Scope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        await db.Database.MigrateAsync();
        var user = new AppUser { UserName = "owner@example.com", Email = "owner@example.com" };
        Webhook Hook(string name) => new() { Id = Guid.NewGuid(), UserId = user.Id, Name = name, Url = $"https://example.com/{name}", Secret = "x", CreatedAt = Now, UpdatedAt = Now };
        (database.Orders, database.Billing) = (Hook("orders"), Hook("billing"));
        db.AddRange(user, database.Orders, database.Billing);
        await db.SaveChangesAsync();
        return database;
    }

    public AsyncServiceScope Scope() => _services.CreateAsyncScope();

    public T Get<T>(AsyncServiceScope scope) where T : notnull => scope.ServiceProvider.GetRequiredService<T>();

    public static DeliveryAttempt Attempt(Guid webhookId, DateTime at, AttemptStatus status, long durationMs) => new()
    {
        Id = Guid.CreateVersion7(), DeliveryId = Guid.CreateVersion7(), WebhookId = webhookId, EventId = "", EventType = EventTypes.PolicyChangeDetected,
        Status = status, StatusCode = status == AttemptStatus.Success ? 200 : 503, AttemptNumber = 1, DurationMs = durationMs, CreatedAt = at,
    };

    /// <summary>One batch: its events, deliveries and attempt rows, and the batch's rollups, in one transaction (with <paramref name="rollups"/> false: rows only, as before rollups existed).</summary>
    public async Task RecordAsync(IReadOnlyList<DeliveryAttempt> batch, bool rollups = true)
    {
        await using var scope = Scope();
        var db = Get<WebhookHubDbContext>(scope);
        var rows = Get<RowWriter>(scope);
        // An event per attempt: a delivery is one event to one webhook, and a batch may hold several to one webhook.
        foreach (var a in batch) a.EventId = $"evt_{++_events}";
        var events = batch.Select(a => new WebhookEvent { Id = a.EventId, Type = a.EventType, Payload = "{}", CreatedAt = a.CreatedAt }).ToList();
        var deliveries = batch.Select(a => new Core.Delivery.Delivery
        {
            Id = a.DeliveryId, WebhookId = a.WebhookId, EventId = a.EventId, EventType = a.EventType, Status = DeliveryStatus.Success,
            AttemptCount = 1, CreatedAt = a.CreatedAt, UpdatedAt = a.CreatedAt, LastAttemptAt = a.CreatedAt,
        }).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await rows.InsertAsync(events, CancellationToken.None);
        await rows.InsertAsync(deliveries, CancellationToken.None);
        await rows.InsertAsync(batch, CancellationToken.None);
        if (rollups) await Get<RollupWriter>(scope).AddAsync(Rollup.Of(batch), CancellationToken.None);
        await transaction.CommitAsync();
        Attempts.AddRange(batch);
    }

    /// <summary>
    /// A mixed history: attempts over the last <paramref name="minutes"/> minutes to both webhooks,
    /// latencies spread from 0 ms to 32 s (log-uniform), 85% successes, written in batches that
    /// straddle minutes and webhooks, like a fan-out's.
    /// </summary>
    public async Task FillAsync(int count, int minutes, int seed = 12, bool rollups = true)
    {
        var random = new Random(seed);
        var attempts = Enumerable.Range(0, count).Select(_ =>
        {
            var at = Now.AddSeconds(-random.Next(minutes * 60));
            var status = random.NextDouble() switch { < 0.85 => AttemptStatus.Success, < 0.95 => AttemptStatus.Retrying, _ => AttemptStatus.Failed };
            var duration = (long)Math.Pow(2, random.NextDouble() * 15) - 1;
            return Attempt(random.Next(3) == 0 ? Billing.Id : Orders.Id, at, status, duration);
        }).OrderBy(a => a.CreatedAt).ToList();
        for (var i = 0; i < attempts.Count; i += 37)
            await RecordAsync(attempts.Skip(i).Take(37).ToList(), rollups);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        // This file's pool only: clearing every pool closes other tests' idle connections, and closing the
        // last connection to a database checkpoints it (WalCheckpointerTests counts on it not happening).
        using (var connection = new SqliteConnection($"Data Source={_file}")) SqliteConnection.ClearPool(connection);
        File.Delete(_file);
    }
}
