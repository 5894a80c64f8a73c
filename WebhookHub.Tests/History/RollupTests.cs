using Microsoft.EntityFrameworkCore;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Tests.History;

/// <summary>
/// The minute rollups against the raw attempts they summarise: counts exact, percentiles within one
/// latency bucket; and the backfill and retention that keep them whole.
/// </summary>
public sealed class RollupTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Summary_from_rollups_matches_the_raw_attempts_counts_exactly_and_percentiles_within_one_bucket()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        await hub.FillAsync(3_000, minutes: 90);
        await using var scope = hub.Scope();
        var db = hub.Get<WebhookHubDbContext>(scope);

        foreach (var (window, span) in DeliveryStats.Windows)
        {
            var summary = await hub.Get<DeliveryStats>(scope).SummarizeAsync(db.Webhooks, span, None);
            var since = DeliveryStats.Since(HistoryDatabase.Now, span);
            foreach (var health in summary)
            {
                var raw = hub.Attempts.Where(a => a.WebhookId == health.WebhookId && a.CreatedAt >= since).ToList();
                Assert.Equal(raw.Count, health.Attempts);
                Assert.Equal(raw.Count(a => a.Status == AttemptStatus.Success), health.CountsByStatus["success"]);
                Assert.Equal(raw.Count(a => a.Status == AttemptStatus.Retrying), health.CountsByStatus["retrying"]);
                Assert.Equal(raw.Count(a => a.Status == AttemptStatus.Failed), health.CountsByStatus["failed"]);
                Assert.Equal(raw.Average(a => (double)a.DurationMs), health.AverageMs!.Value, 6);
                var sorted = raw.Select(a => a.DurationMs).Order().ToArray();
                foreach (var (p, reported) in new[] { (0.50, health.P50Ms), (0.95, health.P95Ms) })
                {
                    var exact = sorted[(int)Math.Ceiling(p * sorted.Length) - 1];
                    // The bucket's upper bound: never below the exact value, at most one bucket (19%, plus rounding) above it.
                    Assert.Equal(LatencyHistogram.UpperBoundMs(LatencyHistogram.BucketOf(exact)), reported);
                    Assert.InRange(reported!.Value, exact, Math.Max(exact * 1.19 + 1, 1));
                }
                Assert.Equal(Rollup.StartOf(raw.Where(a => a.Status != AttemptStatus.Success).Max(a => a.CreatedAt), DeliveryStats.SpanFor(span)), health.LastFailure!.At);
            }
            Assert.True(summary.Sum(h => h.Attempts) > 0, window);
        }
    }

    [Fact]
    public async Task Histogram_bounds_are_a_fourth_root_of_two_apart_and_cover_zero_to_the_timeout()
    {
        Assert.Equal(0, LatencyHistogram.BucketOf(0));
        Assert.Equal(0, LatencyHistogram.BucketOf(1));
        Assert.Equal(4, LatencyHistogram.BucketOf(2));
        Assert.Equal(40, LatencyHistogram.BucketOf(1024));
        Assert.Equal(41, LatencyHistogram.BucketOf(1025));
        Assert.Equal(LatencyHistogram.Buckets - 1, LatencyHistogram.BucketOf(30_000));
        Assert.Equal(LatencyHistogram.Buckets - 1, LatencyHistogram.BucketOf(long.MaxValue / 2));
        for (long ms = 1; ms < 32_768; ms = ms * 11 / 10 + 1)
            Assert.InRange(LatencyHistogram.UpperBoundMs(LatencyHistogram.BucketOf(ms)), ms, ms * 1.19 + 1);
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.Buckets], 0.5));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_batch_makes_one_upsert_per_webhook_and_period_and_later_batches_add_to_it()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        var minute = Rollup.MinuteOf(HistoryDatabase.Now);
        var batch = new[]
        {
            HistoryDatabase.Attempt(hub.Orders.Id, minute.AddSeconds(1), AttemptStatus.Success, 10),
            HistoryDatabase.Attempt(hub.Orders.Id, minute.AddSeconds(2), AttemptStatus.Retrying, 3_000),
            HistoryDatabase.Attempt(hub.Billing.Id, minute.AddSeconds(3), AttemptStatus.Failed, 5),
        };
        Assert.Equal(2 * 3, Rollup.Of(batch).Count);                     // two webhooks × minute, hour, day
        await hub.RecordAsync(batch);
        await hub.RecordAsync([HistoryDatabase.Attempt(hub.Orders.Id, minute.AddSeconds(30), AttemptStatus.Success, 10)]);

        await using var scope = hub.Scope();
        var rows = await hub.Get<WebhookHubDbContext>(scope).Rollups.AsNoTracking().ToListAsync();
        Assert.Equal(6, rows.Count);
        foreach (var orders in rows.Where(r => r.WebhookId == hub.Orders.Id))
            Assert.Equal((Rollup.StartOf(minute, orders.SpanMinutes), 2, 1, 0, 3_020L), (orders.Start, orders.Succeeded, orders.Retrying, orders.Failed, orders.DurationSumMs));
        var latency = await hub.Get<WebhookHubDbContext>(scope).Rollups.Where(r => r.WebhookId == hub.Orders.Id)
            .Select(r => new { Ten = EF.Property<int>(r, LatencyHistogram.Property(LatencyHistogram.BucketOf(10))), Three = EF.Property<int>(r, LatencyHistogram.Property(LatencyHistogram.BucketOf(3_000))) })
            .ToListAsync();
        Assert.All(latency, l => Assert.Equal((2, 1), (l.Ten, l.Three)));
    }

    [Fact]
    public async Task Backfill_builds_the_rollups_of_an_upgraded_hub_once()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        await hub.FillAsync(2_000, minutes: 60 * 30, rollups: false);        // history written before rollups existed
        await using var scope = hub.Scope();
        var db = hub.Get<WebhookHubDbContext>(scope);
        Assert.False(await db.Rollups.AnyAsync());

        Assert.Equal(2_000, await hub.Get<RollupBackfill>(scope).RunAsync(None));
        Assert.Equal(0, await hub.Get<RollupBackfill>(scope).RunAsync(None));  // once: rollups exist now

        var summary = await hub.Get<DeliveryStats>(scope).SummarizeAsync(db.Webhooks, DeliveryStats.Windows["30d"], None);
        foreach (var health in summary)
        {
            var raw = hub.Attempts.Where(a => a.WebhookId == health.WebhookId).ToList();
            Assert.Equal(raw.Count, health.Attempts);
            Assert.Equal(raw.Count(a => a.Status == AttemptStatus.Success), health.CountsByStatus["success"]);
            Assert.Equal(raw.Sum(a => a.DurationMs), (long)Math.Round(health.AverageMs!.Value * health.Attempts));
        }
        foreach (var span in Rollup.Spans)
            Assert.Equal(hub.Attempts.Select(a => (a.WebhookId, Rollup.StartOf(a.CreatedAt, span))).Distinct().Count(), await db.Rollups.CountAsync(r => r.SpanMinutes == span));
    }

    [Fact]
    public async Task Retention_keeps_rollups_for_RollupDays_and_attempts_for_Days()
    {
        var options = new WebhookHubOptions { Retention = { Days = 7, RollupDays = 400, BatchSize = 100 } };
        await using var hub = await HistoryDatabase.CreateAsync(options);
        var now = HistoryDatabase.Now;
        foreach (var age in new[] { 1, 6, 8, 29, 399, 401, 500 })
            await hub.RecordAsync([HistoryDatabase.Attempt(hub.Orders.Id, now.AddDays(-age), AttemptStatus.Success, 5),
                                   HistoryDatabase.Attempt(hub.Billing.Id, now.AddDays(-age).AddMinutes(3), AttemptStatus.Failed, 5)]);

        await using var scope = hub.Scope();
        var result = await hub.Get<RetentionJob>(scope).PurgeAsync(None);

        var db = hub.Get<WebhookHubDbContext>(scope);
        // Minute rows after 2 days (ages 6 to 500: 12 rows), hour and day rows after 400 (ages 401, 500: 8 rows).
        Assert.Equal(20, result.Rollups);
        Assert.Equal(10, result.Attempts);
        var attemptsLeft = await db.Attempts.Select(a => a.CreatedAt).ToListAsync();
        Assert.All(attemptsLeft, at => Assert.True(at >= now.AddDays(-7)));
        Assert.Equal(4, attemptsLeft.Count);
        var rollupsLeft = await db.Rollups.ToListAsync();
        Assert.Equal(42 - 20, rollupsLeft.Count);
        Assert.All(rollupsLeft, r => Assert.True(r.Start >= now.AddDays(r.SpanMinutes == Rollup.Minute ? -2 : -400).AddDays(-1)));
        // The 7- and 30-day windows still count what the attempts' retention removed.
        var month = await hub.Get<DeliveryStats>(scope).SummarizeAsync(db.Webhooks, DeliveryStats.Windows["30d"], None);
        Assert.Equal(8, month.Sum(h => h.Attempts));
    }
}
