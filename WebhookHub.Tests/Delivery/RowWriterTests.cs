using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Delivery;

/// <summary>
/// The delivery hot path writes its rows with <see cref="RowWriter"/> instead of SaveChanges: a row
/// must be stored byte for byte as EF Core stores it, or history, filters and joins would miss it.
/// </summary>
public sealed class RowWriterTests : IAsyncLifetime
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"rowwriter-{Guid.NewGuid():n}.db");
    private WebhookHubDbContext _db = null!;
    private readonly List<WebhookEvent> _events = [];
    private Webhook _webhook = null!;

    public async Task InitializeAsync()
    {
        _db = NewContext();
        await _db.Database.MigrateAsync();
        var now = DateTime.UtcNow;
        var user = new AppUser { UserName = "owner@example.com", Email = "owner@example.com" };
        _webhook = new Webhook { Id = Guid.NewGuid(), UserId = user.Id, Name = "hook", Url = "https://example.com/h", Secret = "x", CreatedAt = now, UpdatedAt = now };
        // One delivery per event and webhook (a unique index): an event per delivery a test makes.
        _events.AddRange(Enumerable.Range(1, 3).Select(i => new WebhookEvent { Id = $"evt_{i}", Type = EventTypes.PolicyChangeDetected, Payload = "{}", CreatedAt = now }));
        _db.AddRange(user, _webhook);
        _db.AddRange(_events);
        await _db.SaveChangesAsync();
        _db.ChangeTracker.Clear();
    }

    public async Task DisposeAsync()
    {
        // This file's pool only: ClearAllPools would also close the idle connections of tests running
        // beside this one, and closing the last connection to a WAL database checkpoints it (it broke
        // WalCheckpointerTests, which must see its rows still in the -wal file).
        var connection = (SqliteConnection)_db.Database.GetDbConnection();
        await _db.DisposeAsync();
        SqliteConnection.ClearPool(connection);
        File.Delete(_file);
    }

    [Fact]
    public async Task An_inserted_row_is_stored_exactly_as_EF_Core_stores_it()
    {
        var byEf = NewDelivery(0);
        var byWriter = NewDelivery(1);
        _db.Deliveries.Add(byEf);
        await _db.SaveChangesAsync();
        await new RowWriter(_db).InsertAsync([byWriter], CancellationToken.None);

        var stored = await StoredColumnsAsync("deliveries");
        Assert.Equal(2, stored.Count);
        // Every column but the ids has the same SQLite type and text, e.g. status 'retrying', Guids as upper-case text.
        Assert.Equal(Without(stored[byEf.Id.ToString().ToUpperInvariant()], "id", "event_id"), Without(stored[byWriter.Id.ToString().ToUpperInvariant()], "id", "event_id"));

        _db.ChangeTracker.Clear();
        var read = await _db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == byWriter.Id && d.Status == DeliveryStatus.Retrying);
        Assert.Equivalent(byWriter, read);
    }

    [Fact]
    public async Task An_update_writes_only_the_named_columns()
    {
        var delivery = NewDelivery(0);
        await new RowWriter(_db).InsertAsync([delivery], CancellationToken.None);
        // Another writer finishes the delivery meanwhile; our stale copy only records a job id.
        await _db.Deliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DeliveryStatus.Success));
        delivery.HangfireJobId = "42";
        await new RowWriter(_db).UpdateAsync([delivery], [nameof(Core.Delivery.Delivery.HangfireJobId)], CancellationToken.None);

        var read = await _db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == delivery.Id);
        Assert.Equal("42", read.HangfireJobId);
        Assert.Equal(DeliveryStatus.Success, read.Status);
    }

    [Fact]
    public async Task A_batch_that_fails_part_way_saves_nothing()
    {
        var first = NewDelivery(0);
        var duplicate = NewDelivery(2);
        duplicate.Id = first.Id;

        await Assert.ThrowsAsync<SqliteException>(() => new RowWriter(_db).InsertAsync([first, NewDelivery(1), duplicate], CancellationToken.None));

        Assert.Equal(0, await _db.Deliveries.CountAsync());
    }

    private WebhookHubDbContext NewContext() =>
        new(new DbContextOptionsBuilder<WebhookHubDbContext>().UseWebhookHubSqlite(_file).Options);

    private Core.Delivery.Delivery NewDelivery(int eventIndex) => new()
    {
        Id = Guid.CreateVersion7(),
        WebhookId = _webhook.Id,
        EventId = _events[eventIndex].Id,
        EventType = _events[eventIndex].Type,
        PolicyChangeId = null,
        Status = DeliveryStatus.Retrying,
        AttemptCount = 2,
        NextAttemptAt = new DateTime(2026, 11, 29, 10, 0, 1, 250, DateTimeKind.Utc),
        LastAttemptAt = new DateTime(2026, 11, 29, 10, 0, 0, 123, DateTimeKind.Utc),
        LastStatusCode = 503,
        LastError = "Service Unavailable: 'quoted' \"text\"",
        CreatedAt = new DateTime(2026, 11, 29, 9, 59, 59, DateTimeKind.Utc),
        UpdatedAt = new DateTime(2026, 11, 29, 10, 0, 0, 123, DateTimeKind.Utc),
    };

    /// <summary>Each row of a table as "column: sqlite type: text", keyed by id.</summary>
    private async Task<Dictionary<string, List<string>>> StoredColumnsAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={_file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table}";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, List<string>>();
        while (await reader.ReadAsync())
        {
            var columns = Enumerable.Range(0, reader.FieldCount)
                .Select(i => $"{reader.GetName(i)}: {reader.GetDataTypeName(i)}: {(reader.IsDBNull(i) ? "null" : reader.GetString(i))}")
                .ToList();
            rows[reader.GetString(reader.GetOrdinal("id"))] = columns;
        }
        return rows;
    }

    private static List<string> Without(List<string> columns, params string[] names) =>
        columns.Where(c => !names.Any(name => c.StartsWith(name + ":"))).ToList();
}
