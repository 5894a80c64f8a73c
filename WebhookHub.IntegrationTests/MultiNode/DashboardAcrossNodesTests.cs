using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// The monitoring page of the web node follows the attempts the worker node makes, live (events bridge, issue
/// 14), and its totals match the shared database, also after its events connection was cut and came back.
/// </summary>
public sealed class DashboardAcrossNodesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Nodes _nodes = null!;
    private TestReceiver _receiver = null!;
    private Infrastructure.Browser _browser = null!;

    /// <summary>When each delivery id first appears on the page (a MutationObserver runs right after the change).</summary>
    private const string WatchFeed = """
        () => {
          window.__noReload = true;
          window.__seen = {};
          const note = el => { const id = el.getAttribute('data-delivery-id'); if (id && !window.__seen[id]) window.__seen[id] = Date.now(); };
          new MutationObserver(mutations => {
            for (const m of mutations) {
              if (m.type === 'attributes') note(m.target);
              for (const n of m.addedNodes) if (n.nodeType === 1) { if (n.matches('[data-delivery-id]')) note(n); n.querySelectorAll('[data-delivery-id]').forEach(note); }
            }
          }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-delivery-id'] });
        }
        """;

    public async Task InitializeAsync()
    {
        _receiver = await TestReceiver.StartAsync();
        _nodes = await Nodes.StartAsync();
        _browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _nodes.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task ExpectTotalsMatchDatabaseAsync(IPage page, long expected)
    {
        await Eventually.True(() => _nodes.AttemptCounts().Total == expected, $"{expected} attempts in the database",
            state: () => _nodes.AttemptCounts().ToString());
        var (total, successes) = _nodes.AttemptCounts();
        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync(total.ToString());
        await Expect(page.GetByTestId("total-successes")).ToHaveTextAsync(successes.ToString());
        await Expect(page.GetByTestId("total-failures")).ToHaveTextAsync((total - successes).ToString());
        await Expect(page.GetByTestId("throughput")).ToHaveAttributeAsync("data-successes", successes.ToString());
        await Expect(page.GetByTestId("throughput")).ToHaveAttributeAsync("data-failures", (total - successes).ToString());
    }

    [PostgresOnlyFact("several nodes share one PostgreSQL database and its LISTEN/NOTIFY")]
    public async Task The_web_nodes_dashboard_shows_the_workers_attempts_live_and_its_totals_match_the_database()
    {
        SetDefaultExpectTimeout(15_000);
        _receiver.Respond((_, req) => req.Path == "/gone" ? Results.NotFound() : Results.Ok());
        using (var admin = _nodes.Web.ApiClient())
        {
            await Nodes.CreateWebhookAsync(admin, "orders-service", _receiver.Url("/ok"));
            await Nodes.CreateWebhookAsync(admin, "legacy-crm", _receiver.Url("/gone"));
        }
        var page = await _browser.NewSignedInPageAsync(_nodes.Web.BaseAddress);
        await page.GotoAsync("/monitoring");
        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync("0");
        await page.EvaluateAsync(WatchFeed);
        await using var staff = await Nodes.ListenAsync(_nodes.Web, AppProcess.AdminApiKey);

        // Live: each of the worker's attempts appears in the web node's feed; receiver's request → row on the page.
        var latencies = new List<double>();
        for (var i = 1; i <= 5; i++)
        {
            await _nodes.PostChangeAsync(i);
            var request = (await _receiver.WaitForAsync(r => r.Count(x => x.Path == "/ok") >= i)).Where(x => x.Path == "/ok").ElementAt(i - 1);
            var seenAt = await (await page.WaitForFunctionAsync("id => window.__seen[id]", request.Header("X-Webhook-Delivery"))).JsonValueAsync<double>();
            latencies.Add(seenAt - request.At.ToUnixTimeMilliseconds());
        }
        await Task.WhenAll(Enumerable.Range(100, 20).Select(_nodes.PostChangeAsync));
        await ExpectTotalsMatchDatabaseAsync(page, 50);
        var newest = await page.GetByTestId("live-feed").Locator("tr[data-delivery-id]").First.GetAttributeAsync("data-delivery-id");
        Assert.Contains(newest!, _receiver.Requests.Skip(10).Select(r => r.Header("X-Webhook-Delivery")));
        var sorted = latencies.Order().ToList();
        output.WriteLine($"Receiver got the worker's request → row on the web node's page, ms: {string.Join(", ", latencies.Select(l => l.ToString("0")))}; "
            + $"median {sorted[2]:0}, max {sorted[^1]:0}");
        Assert.All(latencies, l => Assert.InRange(l, 0, 5_000));

        // A gap: the web node's LISTEN connection is cut again and again while the worker delivers ten more changes,
        // so most of their NOTIFYs reach no one. Once it may reconnect, it tells the page (and hub clients) to reload.
        using var cutting = new CancellationTokenSource();
        var cuts = 0;
        var cutter = Task.Run(async () =>
        {
            while (!cutting.IsCancellationRequested)
            {
                cuts += await _nodes.CutWebListenerAsync();
                await Task.Delay(20);
            }
        });
        await Task.WhenAll(Enumerable.Range(200, 10).Select(_nodes.PostChangeAsync));
        await Eventually.True(() => _nodes.AttemptCounts().Total == 70, "70 attempts in the database", state: () => _nodes.AttemptCounts().ToString());
        var resyncsBefore = staff.Of("resync").Count;
        await cutting.CancelAsync();
        await cutter;
        output.WriteLine($"Cut the web node's listener {cuts} times during 10 changes.");
        Assert.True(cuts > 0, "the web node's listener was never cut");
        await Eventually.True(() => staff.Of("resync").Count > resyncsBefore, "a resync once the listener is back", state: staff.Describe);
        await ExpectTotalsMatchDatabaseAsync(page, 70);

        // And live again after it.
        await _nodes.PostChangeAsync(300);
        await ExpectTotalsMatchDatabaseAsync(page, 72);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");
    }
}
