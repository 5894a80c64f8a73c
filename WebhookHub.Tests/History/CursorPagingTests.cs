using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Tests.History;

/// <summary>History by cursor: every row once, in order, while new attempts arrive; and plans that never scan the attempts table.</summary>
public sealed class CursorPagingTests
{
    [Fact]
    public async Task Paging_by_cursor_returns_every_attempt_once_in_order_while_new_ones_arrive()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        // Batches share one timestamp (as RecordAsync's do), so the cursor's tie on created_at is exercised.
        var at = HistoryDatabase.Now.AddHours(-1);
        for (var i = 0; i < 30; i++)
            await hub.RecordAsync(Enumerable.Range(0, 7).Select(_ => HistoryDatabase.Attempt(hub.Orders.Id, at.AddSeconds(i), AttemptStatus.Success, 5)).ToList());
        var existing = hub.Attempts.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id.ToString("D").ToUpperInvariant(), StringComparer.Ordinal).Select(a => a.Id).ToList();

        var seen = new List<Guid>();
        HistoryCursor? cursor = null;
        var pages = 0;
        do
        {
            await using var scope = hub.Scope();
            var db = hub.Get<WebhookHubDbContext>(scope);
            var page = await hub.Get<DeliveryHistory>(scope).PageAsync(db.Webhooks, hub.Orders.Id, new AttemptFilter(), cursor, 0, 8, CancellationToken.None);
            seen.AddRange(page.Items.Select(a => a.Id));
            cursor = page.Next is { } next ? HistoryCursor.Parse(next.ToString()) : null;   // through its text form, as the API hands it out
            // New attempts land between pages, newer than anything paged so far.
            await hub.RecordAsync([HistoryDatabase.Attempt(hub.Orders.Id, HistoryDatabase.Now.AddSeconds(pages++), AttemptStatus.Success, 5)]);
        } while (cursor is not null);

        Assert.Equal(existing, seen);
        Assert.Equal(27, pages);
    }

    [Fact]
    public async Task Totals_above_ten_thousand_are_reported_as_a_lower_bound()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        await using var scope = hub.Scope();
        var db = hub.Get<WebhookHubDbContext>(scope);
        var history = hub.Get<DeliveryHistory>(scope);
        for (var i = 0; i < 10_001; i += 1_000)
            await hub.RecordAsync(Enumerable.Range(0, Math.Min(1_000, 10_001 - i))
                .Select(n => HistoryDatabase.Attempt(hub.Orders.Id, HistoryDatabase.Now.AddSeconds(-n), AttemptStatus.Success, 5)).ToList());

        var page = await history.PageAsync(db.Webhooks, hub.Orders.Id, new AttemptFilter(), null, 0, 10, CancellationToken.None);
        Assert.Equal((DeliveryHistory.CountLimit, true), (page.Total, page.TotalIsLowerBound));
        var small = await history.PageAsync(db.Webhooks, hub.Billing.Id, new AttemptFilter(), null, 0, 10, CancellationToken.None);
        Assert.Equal((0, false, null), (small.Total, small.TotalIsLowerBound, small.Next));
        Assert.Null(HistoryCursor.Parse("not a cursor"));
    }

    /// <summary>
    /// SQLite's plan for every history query shape (per webhook or global, each filter, first page, cursor,
    /// numbered page, count, export): the attempts table is only ever read through an index in page order,
    /// never scanned whole and never sorted in a temp B-tree.
    /// </summary>
    [Fact]
    public async Task No_history_query_scans_or_sorts_the_attempts_table()
    {
        await using var hub = await HistoryDatabase.CreateAsync();
        await hub.FillAsync(500, minutes: 60);
        await using var scope = hub.Scope();
        var db = hub.Get<WebhookHubDbContext>(scope);
        var history = hub.Get<DeliveryHistory>(scope);
        var cursor = new HistoryCursor(HistoryDatabase.Now.AddMinutes(-30), Guid.NewGuid());
        var day = HistoryDatabase.Now.AddDays(-1);
        var customer = db.Webhooks.Where(w => w.UserId == hub.Orders.UserId);

        var shapes = new List<(string Name, IQueryable<DeliveryAttempt> Query)>();
        foreach (var (scopeName, visible, webhook) in new (string, IQueryable<Core.Webhooks.Webhook>, Guid?)[] { ("webhook", db.Webhooks, hub.Orders.Id), ("customer's webhook", customer, hub.Orders.Id), ("global", db.Webhooks, null) })
        foreach (var (filterName, filter) in new[] { ("no filter", new AttemptFilter()), ("status", new AttemptFilter(AttemptStatus.Failed)),
                     ("dates", new AttemptFilter(From: day, To: HistoryDatabase.Now)), ("status and dates", new AttemptFilter(AttemptStatus.Retrying, day, HistoryDatabase.Now)) })
        {
            shapes.Add(($"{scopeName}, {filterName}, first page", history.Query(visible, webhook, filter).Take(51)));
            shapes.Add(($"{scopeName}, {filterName}, by cursor", history.Query(visible, webhook, filter, cursor).Take(51)));
            shapes.Add(($"{scopeName}, {filterName}, page 3", history.Query(visible, webhook, filter).Skip(100).Take(51)));
            shapes.Add(($"{scopeName}, {filterName}, count", history.Query(visible, webhook, filter).Take(DeliveryHistory.CountLimit + 1)));
            shapes.Add(($"{scopeName}, {filterName}, export", history.Query(visible, webhook, filter)));
        }

        await db.Database.OpenConnectionAsync();
        foreach (var (name, query) in shapes)
        {
            var command = query.CreateDbCommand();
            var alias = Regex.Match(command.CommandText, "FROM \"webhook_deliveries\" AS \"(\\w+)\"").Groups[1].Value;
            var plan = await PlanAsync(command);
            var shown = $"{name}: {string.Join(" | ", plan)}";
            Assert.True(plan.Any(p => p.Contains("INDEX IX_webhook_deliveries_", StringComparison.Ordinal)), shown);
            Assert.False(plan.Any(p => p == $"SCAN {alias}"), shown);
            Assert.False(plan.Any(p => p.Contains("TEMP B-TREE", StringComparison.Ordinal)), shown);
        }
    }

    private static async Task<List<string>> PlanAsync(DbCommand command)
    {
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(3));
        return plan;
    }
}
