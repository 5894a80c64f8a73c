using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace WebhookHub.IntegrationTests.Browser;

public sealed class MonitoringPageTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private WebhookHubApp App => fixture.App;

    /// <summary>
    /// Records, in the page, when each delivery id first appears in the DOM (a MutationObserver callback
    /// runs right after the change), so the delay can be measured against the receiver's clock (same machine).
    /// </summary>
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
          window.__renders = [];
          new MutationObserver(() => window.__renders.push(Date.now()))
            .observe(document.querySelector('[data-testid=total-attempts]'), { subtree: true, childList: true, characterData: true });
        }
        """;

    private async Task<Guid> CreateWebhookAsync(HttpClient admin, string name, string url)
    {
        var response = await admin.PostAsJsonAsync("/api/webhooks", new { name, url });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static Task PostChangeAsync(HttpClient admin, int n) =>
        admin.PostAsJsonAsync("/api/policy-changes", new { route = "visa/uk", source = "https://example.gov/visa", diff = $"- fee {n}\n+ fee {n + 1}" });

    /// <summary>The attempts in the database (all, successful) once there are at least <paramref name="expectedTotal"/>.</summary>
    private Task<(int Total, int Successes)> DatabaseCountsAsync(int expectedTotal) =>
        Eventually.Matches(async () =>
            {
                using var scope = App.Services.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
                return (Total: await db.Attempts.CountAsync(), Successes: await db.Attempts.CountAsync(a => a.Status == AttemptStatus.Success));
            },
            counts => counts.Total >= expectedTotal, $"{expectedTotal} attempts in the database");

    [Fact]
    public async Task The_open_dashboard_follows_a_burst_without_reload_and_matches_the_database()
    {
        SetDefaultExpectTimeout(15_000);
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, req) => req.Path == "/gone" ? Results.NotFound(new { error = "no such endpoint" }) : Results.Ok());
        using var admin = App.ApiClient();
        var okHook = await CreateWebhookAsync(admin, "orders-service", receiver.Url("/ok"));
        var goneHook = await CreateWebhookAsync(admin, "legacy-crm", receiver.Url("/gone"));

        var page = await fixture.Browser.NewSignedInPageAsync(App.BaseAddress);
        await page.GotoAsync("/monitoring");
        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync("0");
        await page.EvaluateAsync(WatchFeed);

        // Latency: from the receiver getting the request to the attempt's row appearing on the open page.
        var latencies = new List<double>();
        for (var i = 1; i <= 5; i++)
        {
            await PostChangeAsync(admin, i);
            var request = (await receiver.WaitForAsync(r => r.Count(x => x.Path == "/ok") >= i)).Where(x => x.Path == "/ok").ElementAt(i - 1);
            var deliveryId = request.Header("X-Webhook-Delivery");
            var seenAt = await (await page.WaitForFunctionAsync("id => window.__seen[id]", deliveryId)).JsonValueAsync<double>();
            latencies.Add(seenAt - request.At.ToUnixTimeMilliseconds());
        }
        var sorted = latencies.Order().ToList();
        output.WriteLine($"Attempt → open page, ms: {string.Join(", ", latencies.Select(l => l.ToString("0")))}; median {sorted[2]:0}, max {sorted[^1]:0}");
        Assert.All(latencies, l => Assert.InRange(l, 0, 5_000));
        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync("10");
        var chartBefore = await page.GetByTestId("throughput").InnerHTMLAsync();
        var rendersBefore = await page.EvaluateAsync<int>("() => window.__renders.length");

        // The burst: 20 changes at once, each to a webhook that answers 200 and one that answers 404 (dead-lettered at once).
        await Task.WhenAll(Enumerable.Range(100, 20).Select(n => PostChangeAsync(admin, n)));
        await receiver.WaitForCountAsync(50);
        var (total, successes) = await DatabaseCountsAsync(50);
        Assert.Equal((50, 25), (total, successes));

        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync(total.ToString());
        await Expect(page.GetByTestId("total-successes")).ToHaveTextAsync(successes.ToString());
        await Expect(page.GetByTestId("total-failures")).ToHaveTextAsync((total - successes).ToString());
        await Expect(page.GetByTestId("success-rate")).ToHaveTextAsync((successes / (double)total).ToString("P1"));
        await Expect(page.GetByTestId("throughput")).ToHaveAttributeAsync("data-successes", successes.ToString());
        await Expect(page.GetByTestId("throughput")).ToHaveAttributeAsync("data-failures", (total - successes).ToString());
        Assert.NotEqual(chartBefore, await page.GetByTestId("throughput").InnerHTMLAsync());
        await Expect(page.Locator($"[data-testid=health-state][data-webhook-id='{goneHook}'] .mud-chip")).ToHaveTextAsync("failing");
        await Expect(page.Locator($"[data-testid=health-state][data-webhook-id='{okHook}'] .mud-chip")).ToHaveTextAsync("healthy");
        await Expect(page.GetByTestId("recent-failures").Locator($"a[href='/webhooks/{goneHook}/history']").First).ToBeVisibleAsync();

        // Bursts do not flood the circuit: the totals changed a few times a second at most, not once per attempt.
        var renders = (await page.EvaluateAsync<double[]>("() => window.__renders")).Skip(rendersBefore).ToArray();
        var span = renders[^1] - renders[0];
        output.WriteLine($"Burst of 40 attempts: the totals changed {renders.Length} times in {span:0} ms");
        Assert.InRange(renders.Length, 1, span / 250 + 3);

        // The feed's newest rows are the burst's, and they arrived on the page that was never reloaded.
        var burstDeliveries = receiver.Requests.Skip(10).Select(r => r.Header("X-Webhook-Delivery")).ToHashSet();
        var newest = await page.GetByTestId("live-feed").Locator("tr[data-delivery-id]").First.GetAttributeAsync("data-delivery-id");
        Assert.Contains(newest!, burstDeliveries);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"), "the page was reloaded");
        Assert.InRange(await page.EvaluateAsync<int>("() => Object.keys(window.__seen).length"), 15, 50);

        var wide = await Infrastructure.Browser.ScreenshotAsync(page, "monitoring-1280");
        await page.GetByTestId("window-24h").ClickAsync();
        await Expect(page.GetByTestId("throughput")).ToContainTextAsync("per hour");
        await Expect(page.GetByTestId("total-attempts")).ToHaveTextAsync(total.ToString());
        // Opened wide, then narrowed: the layout must follow.
        var narrowPage = await fixture.Browser.NewSignedInPageAsync(App.BaseAddress);
        await narrowPage.SetViewportSizeAsync(390, 844);
        await narrowPage.GotoAsync("/monitoring");
        await Expect(narrowPage.GetByTestId("total-attempts")).ToHaveTextAsync(total.ToString());
        var narrow = await Infrastructure.Browser.ScreenshotAsync(narrowPage, "monitoring-390");
        output.WriteLine($"Screenshots: {wide}, {narrow}");
    }
}
