using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Persistence;

/// <summary>
/// <see cref="RowWriter"/> and <see cref="RollupWriter"/> on real PostgreSQL, where they write a batch as one
/// statement of array parameters (<c>unnest</c>): every value must come back through EF Core as it went in
/// (enums as lowercase text, Guids, nulls, UTC timestamps), and rollups from concurrent writers must add up.
/// </summary>
public sealed class PostgresWriterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    // PostgreSQL stores microseconds: test times have none smaller.
    private static readonly DateTime At = new(2026, 11, 29, 10, 0, 0, 123, DateTimeKind.Utc);

    [PostgresFact]
    public async Task Inserted_deliveries_and_attempts_read_back_through_EF_as_written()
    {
        await using var db = database.NewContext();
        var (webhook, events) = await SeedAsync(db, 3);
        var deliveries = events.Select((e, i) => NewDelivery(webhook, e, i)).ToList();
        var attempts = deliveries.Select((d, i) => new DeliveryAttempt
        {
            Id = Guid.CreateVersion7(), DeliveryId = d.Id, WebhookId = webhook.Id, EventId = d.EventId, EventType = d.EventType,
            PolicyChangeId = i == 0 ? Guid.NewGuid() : null,
            Status = new[] { AttemptStatus.Success, AttemptStatus.Retrying, AttemptStatus.Failed }[i], StatusCode = i == 2 ? null : 500 + i, ResponseBody = i == 1 ? null : "body 'quoted' \"text\" ü",
            AttemptNumber = i + 1, Trigger = i == 0 ? AttemptTrigger.Manual : AttemptTrigger.Scheduled,
            DeliveredAt = i == 2 ? null : At.AddMilliseconds(i), ErrorMessage = i == 2 ? "timeout" : null,
            DurationMs = 30_000L * i, CreatedAt = At.AddSeconds(i), HangfireJobId = i == 1 ? "17" : null,
        }).ToList();

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await new RowWriter(db).InsertAsync(deliveries, CancellationToken.None);
            await new RowWriter(db).InsertAsync(attempts, CancellationToken.None);
            await transaction.CommitAsync();
        }

        await using var reader = database.NewContext();
        var storedDeliveries = await reader.Deliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id).OrderBy(d => d.Id).ToListAsync();
        Assert.Equivalent(deliveries.OrderBy(d => d.Id).ToList(), storedDeliveries, strict: true);
        Assert.All(storedDeliveries, d => Assert.Equal(DateTimeKind.Utc, d.CreatedAt.Kind));
        var storedAttempts = await reader.Attempts.AsNoTracking().Where(a => a.WebhookId == webhook.Id).OrderBy(a => a.Id).ToListAsync();
        Assert.Equivalent(attempts.OrderBy(a => a.Id).ToList(), storedAttempts, strict: true);
        // Stored as EF Core stores them: the filters of history and the retry sweep find them by the lowercase text.
        Assert.Equal(1, await reader.Attempts.CountAsync(a => a.WebhookId == webhook.Id && a.Status == AttemptStatus.Retrying));
        Assert.Equal(3, await reader.Deliveries.CountAsync(d => d.WebhookId == webhook.Id && d.Status == DeliveryStatus.Retrying));
    }

    [PostgresFact]
    public async Task An_update_writes_only_the_named_columns_of_every_row()
    {
        await using var db = database.NewContext();
        var (webhook, events) = await SeedAsync(db, 3);
        var deliveries = events.Select((e, i) => NewDelivery(webhook, e, i)).ToList();
        await new RowWriter(db).InsertAsync(deliveries, CancellationToken.None);
        // Another writer changes a column meanwhile; our copies change others, one of them to null.
        await db.Deliveries.Where(d => d.WebhookId == webhook.Id).ExecuteUpdateAsync(u => u.SetProperty(d => d.HangfireJobId, "other"));
        foreach (var (d, i) in deliveries.Select((d, i) => (d, i)))
        {
            d.Status = DeliveryStatus.Success;
            d.AttemptCount = 10 + i;
            d.NextAttemptAt = null;
            d.LastError = i == 0 ? null : "still failing";
            d.UpdatedAt = At.AddMinutes(1);
            d.HangfireJobId = "stale";
        }

        await new RowWriter(db).UpdateAsync(deliveries,
            [nameof(Core.Delivery.Delivery.Status), nameof(Core.Delivery.Delivery.AttemptCount), nameof(Core.Delivery.Delivery.NextAttemptAt), nameof(Core.Delivery.Delivery.LastError), nameof(Core.Delivery.Delivery.UpdatedAt)],
            CancellationToken.None);

        await using var reader = database.NewContext();
        var stored = await reader.Deliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id).OrderBy(d => d.Id).ToListAsync();
        foreach (var d in deliveries) d.HangfireJobId = "other";
        Assert.Equivalent(deliveries.OrderBy(d => d.Id).ToList(), stored, strict: true);
    }

    [PostgresFact]
    public async Task Rollups_with_the_same_key_in_one_batch_are_added_up()
    {
        await using var db = database.NewContext();
        var (webhook, _) = await SeedAsync(db, 0);
        var minute = Rollup.MinuteOf(At);
        var first = new Rollup { WebhookId = webhook.Id, SpanMinutes = Rollup.Minute, Start = minute };
        first.Add(AttemptStatus.Success, 5);
        var second = new Rollup { WebhookId = webhook.Id, SpanMinutes = Rollup.Minute, Start = minute };
        second.Add(AttemptStatus.Failed, 40_000);
        second.Add(AttemptStatus.Success, 5);

        await new RollupWriter(db).AddAsync([first, second], CancellationToken.None);
        await new RollupWriter(db).AddAsync([first], CancellationToken.None);

        var stored = await Stored(webhook.Id, Rollup.Minute, minute);
        Assert.Equal((3, 0, 1, 40_015L), (stored.Succeeded, stored.Retrying, stored.Failed, stored.DurationSumMs));
        Assert.Equal(3, stored.Latency[LatencyHistogram.BucketOf(5)]);
        Assert.Equal(1, stored.Latency[LatencyHistogram.BucketOf(40_000)]);
        Assert.Equal(4, stored.Latency.Sum());
    }

    [PostgresFact]
    public async Task Concurrent_rollup_upserts_from_two_connections_add_up_exactly()
    {
        const int webhookCount = 20, rounds = 40;
        List<Guid> webhooks;
        await using (var db = database.NewContext())
        {
            var (first, _) = await SeedAsync(db, 0);
            var others = Enumerable.Range(1, webhookCount - 1).Select(i => NewWebhook(first.UserId, i)).ToList();
            db.AddRange(others);
            await db.SaveChangesAsync();
            webhooks = [first.Id, .. others.Select(w => w.Id)];
        }
        var hours = Enumerable.Range(0, 3).Select(h => Rollup.StartOf(At.AddHours(h), Rollup.Hour)).ToList();

        // Two writers, each in its own transaction per round, over the same rows in opposite orders, as two
        // fan-out batches do on PostgreSQL (no write gate). A lost update would show in the sums, a lock
        // taken in a different order as a deadlock.
        async Task Writer(bool reversed)
        {
            await using var db = database.NewContext();
            for (var round = 0; round < rounds; round++)
            {
                var rows = webhooks.SelectMany(w => hours.Select(h =>
                {
                    var rollup = new Rollup { WebhookId = w, SpanMinutes = Rollup.Hour, Start = h };
                    rollup.Add(reversed ? AttemptStatus.Failed : AttemptStatus.Success, reversed ? 1_000 : 1);
                    return rollup;
                })).ToList();
                if (reversed) rows.Reverse();
                await using var transaction = await db.Database.BeginTransactionAsync();
                await new RollupWriter(db).AddAsync(rows, CancellationToken.None);
                await transaction.CommitAsync();
            }
        }
        await Task.WhenAll(Task.Run(() => Writer(false)), Task.Run(() => Writer(true)));

        foreach (var w in webhooks)
        foreach (var h in hours)
        {
            var stored = await Stored(w, Rollup.Hour, h);
            Assert.Equal((rounds, 0, rounds, rounds * 1_001L), (stored.Succeeded, stored.Retrying, stored.Failed, stored.DurationSumMs));
            Assert.Equal(rounds, stored.Latency[LatencyHistogram.BucketOf(1)]);
            Assert.Equal(rounds, stored.Latency[LatencyHistogram.BucketOf(1_000)]);
        }
    }

    private async Task<Rollup> Stored(Guid webhookId, int span, DateTime start)
    {
        await using var db = database.NewContext();
        // Tracked: the bucket columns are shadow properties, read through the entry.
        var row = await db.Rollups.SingleAsync(r => r.WebhookId == webhookId && r.SpanMinutes == span && r.Start == start);
        for (var k = 0; k < LatencyHistogram.Buckets; k++) row.Latency[k] = (int)db.Entry(row).Property(LatencyHistogram.Property(k)).CurrentValue!;
        return row;
    }

    private static async Task<(Webhook, List<WebhookEvent>)> SeedAsync(WebhookHubDbContext db, int eventCount)
    {
        var user = new AppUser { UserName = $"{Guid.NewGuid():n}@example.com", Email = "owner@example.com" };
        var webhook = NewWebhook(user.Id, 0);
        var events = Enumerable.Range(0, eventCount)
            .Select(i => new WebhookEvent { Id = $"evt_{Guid.NewGuid():n}", Type = EventTypes.PolicyChangeDetected, Payload = "{}", CreatedAt = At })
            .ToList();
        db.AddRange(user, webhook);
        db.AddRange(events);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        return (webhook, events);
    }

    private static Webhook NewWebhook(string userId, int i) => new()
    {
        Id = Guid.NewGuid(), UserId = userId, Name = $"hook {i}", Url = $"https://example.com/{i}", Secret = "x", CreatedAt = At, UpdatedAt = At,
    };

    private static Core.Delivery.Delivery NewDelivery(Webhook webhook, WebhookEvent evt, int i) => new()
    {
        Id = Guid.CreateVersion7(),
        WebhookId = webhook.Id,
        EventId = evt.Id,
        EventType = evt.Type,
        PolicyChangeId = i == 1 ? Guid.NewGuid() : null,
        Status = DeliveryStatus.Retrying,
        AttemptCount = i,
        BudgetStartsAfterAttempt = i,
        BudgetTrigger = i == 2 ? AttemptTrigger.Manual : AttemptTrigger.Scheduled,
        NextAttemptAt = i == 0 ? null : At.AddSeconds(i),
        LastAttemptAt = At,
        LastStatusCode = i == 0 ? null : 503,
        LastError = "Service Unavailable: 'quoted' \"text\"",
        HangfireJobId = i == 2 ? "42" : null,
        CreatedAt = At.AddSeconds(-1),
        UpdatedAt = At,
    };
}
