using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Postgres;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Bench;

/// <summary>
/// <c>-- writers [--provider sqlite|postgres] [--batch 100] [--rounds 60]</c>: the hot path's writes alone,
/// no app, no HTTP. Each round records one fan-out batch the way <c>DeliveryJob</c> does: the deliveries'
/// insert (its own transaction), then attempt rows, delivery state and rollups in one transaction. Prints the
/// median time of each part, then the same record transaction from 4 writers at once (PostgreSQL only:
/// SQLite has one writer). Used to choose the PostgreSQL form of <see cref="RowWriter"/> and <see cref="RollupWriter"/>.
/// </summary>
public static class WriterBench
{
    private const int Webhooks = 100;

    public static async Task RunAsync(string[] args)
    {
        var batch = (int)BenchDatabase.Option(args, "--batch", 100);
        var rounds = (int)BenchDatabase.Option(args, "--rounds", 60);
        foreach (var provider in BenchDatabase.Providers(args))
        {
            await using var database = await BenchDatabase.CreateAsync(provider, args, "writers");
            var options = database.DbContextOptions();
            var webhooks = await SeedAsync(options);
            var serial = new List<double[]>();
            for (var round = 0; round < rounds + 5; round++)
            {
                var times = await RecordRoundAsync(options, webhooks, batch, round);
                if (round >= 5) serial.Add(times);
            }
            string Med(int part) => $"{BenchMain.Median(serial.Select(t => t[part]).ToList()):0.00}";
            Console.WriteLine($"[{provider}] batch {batch} deliveries, median of {rounds}: insert deliveries {Med(0)} ms | record: insert attempts {Med(1)} ms, " +
                              $"update deliveries {Med(2)} ms, rollups ({Rollup.Spans.Length * Math.Min(batch, Webhooks)} rows) {Med(3)} ms, commit {Med(4)} ms, " +
                              $"whole record {Med(5)} ms   [load {BenchMain.Load()}]");
            if (provider != BenchProvider.Postgres) continue;
            const int writers = 4;
            var started = Stopwatch.GetTimestamp();
            await Parallel.ForAsync(0, writers * rounds / 2, new ParallelOptions { MaxDegreeOfParallelism = writers },
                async (round, _) => await RecordRoundAsync(options, webhooks, batch, 1_000 + round));
            var elapsed = Stopwatch.GetElapsedTime(started);
            Console.WriteLine($"[{provider}] {writers} writers at once, {writers * rounds / 2} rounds (same webhooks, so the same rollup rows): " +
                              $"{writers * rounds / 2 * batch / elapsed.TotalSeconds:0} deliveries recorded/s, {elapsed.TotalMilliseconds / (writers * rounds / 2):0.00} ms a round   [load {BenchMain.Load()}]");
        }
    }

    private static async Task<List<Guid>> SeedAsync(DbContextOptions<WebhookHubDbContext> options)
    {
        await using var db = new WebhookHubDbContext(options);
        await db.Database.MigrateAsync();
        var now = DateTime.UtcNow;
        var user = new AppUser { UserName = "bench@bench.local", Email = "bench@bench.local" };
        var webhooks = Enumerable.Range(0, Webhooks).Select(i => new Webhook
        {
            Id = Guid.CreateVersion7(), UserId = user.Id, Name = $"bench {i}", Url = $"https://bench.example/{i}", Secret = "x", CreatedAt = now, UpdatedAt = now,
        }).ToList();
        db.Add(user);
        db.AddRange(webhooks);
        await db.SaveChangesAsync();
        return webhooks.Select(w => w.Id).ToList();
    }

    /// <summary>One batch: times of [insert deliveries, insert attempts, update deliveries, rollups, commit, whole record] in ms.</summary>
    private static async Task<double[]> RecordRoundAsync(DbContextOptions<WebhookHubDbContext> options, List<Guid> webhooks, int batch, int round)
    {
        await using var db = new WebhookHubDbContext(options);
        var rows = new RowWriter(db);
        var now = DateTime.UtcNow;
        var evt = new WebhookEvent { Id = $"evt_{round}_{Guid.NewGuid():n}", Type = EventTypes.PolicyChangeDetected, Payload = "{}", CreatedAt = now };
        var deliveries = Enumerable.Range(0, batch).Select(i => new Delivery
        {
            Id = Guid.CreateVersion7(), WebhookId = webhooks[i % webhooks.Count], EventId = i < webhooks.Count ? evt.Id : $"{evt.Id}_{i / webhooks.Count}",
            EventType = evt.Type, CreatedAt = now, UpdatedAt = now,
        }).ToList();
        var events = deliveries.Select(d => d.EventId).Distinct().Select(id => new WebhookEvent { Id = id, Type = evt.Type, Payload = "{}", CreatedAt = now }).ToList();
        var times = new double[6];
        var t = Stopwatch.GetTimestamp();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await rows.InsertAsync(events, CancellationToken.None);
            await rows.InsertAsync(deliveries, CancellationToken.None);
            await transaction.CommitAsync();
        }
        times[0] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;

        var attempts = deliveries.Select((d, i) => new DeliveryAttempt
        {
            Id = Guid.CreateVersion7(), DeliveryId = d.Id, WebhookId = d.WebhookId, EventId = d.EventId, EventType = d.EventType,
            Status = i % 10 == 0 ? AttemptStatus.Retrying : AttemptStatus.Success, StatusCode = i % 10 == 0 ? 503 : 200, ResponseBody = "ok",
            AttemptNumber = 1, Trigger = AttemptTrigger.Scheduled, DeliveredAt = now, DurationMs = 3 + i % 40, CreatedAt = now,
        }).ToList();
        foreach (var (d, a) in deliveries.Zip(attempts))
        {
            d.Status = a.Status == AttemptStatus.Success ? DeliveryStatus.Success : DeliveryStatus.Retrying;
            d.AttemptCount = 1;
            d.LastAttemptAt = now;
            d.LastStatusCode = a.StatusCode;
            d.NextAttemptAt = a.Status == AttemptStatus.Success ? null : now.AddSeconds(1);
            d.UpdatedAt = now;
        }
        var start = Stopwatch.GetTimestamp();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            t = Stopwatch.GetTimestamp();
            await rows.InsertAsync(attempts, CancellationToken.None);
            times[1] = Lap(ref t);
            await rows.UpdateAsync(deliveries, RecordedColumns, CancellationToken.None);
            times[2] = Lap(ref t);
            await new RollupWriter(db).AddAsync(Rollup.Of(attempts), CancellationToken.None);
            times[3] = Lap(ref t);
            await transaction.CommitAsync();
            times[4] = Lap(ref t);
        }
        times[5] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return times;
    }

    /// <summary>The columns <c>DeliveryJob</c> updates after an attempt.</summary>
    private static readonly string[] RecordedColumns =
    [
        nameof(Delivery.Status), nameof(Delivery.AttemptCount), nameof(Delivery.BudgetStartsAfterAttempt), nameof(Delivery.NextAttemptAt),
        nameof(Delivery.LastAttemptAt), nameof(Delivery.LastStatusCode), nameof(Delivery.LastError), nameof(Delivery.HangfireJobId),
        nameof(Delivery.UpdatedAt), nameof(Delivery.BudgetTrigger),
    ];

    private static double Lap(ref long t)
    {
        var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        t = Stopwatch.GetTimestamp();
        return ms;
    }
}
