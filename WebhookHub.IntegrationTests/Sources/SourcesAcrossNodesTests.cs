using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WebhookHub.IntegrationTests.Infrastructure;
using WebhookHub.IntegrationTests.MultiNode;
using WebhookHub.IntegrationTests.Reliability;

namespace WebhookHub.IntegrationTests.Sources;

/// <summary>
/// The schedule on several nodes, as an operator runs them: a web node (no Hangfire server) stores the sources, two
/// workers sweep and check them. Real processes on one PostgreSQL database, real pages on 127.0.0.1.
/// </summary>
public sealed class SourcesAcrossNodesTests : IAsyncLifetime
{
    private const int SourceCount = 6;
    private Nodes _nodes = null!;
    private readonly List<PageServer> _pages = [];

    public async Task InitializeAsync()
    {
        // One site per source: the sweep takes one source per host per run, and the workers space requests to a host.
        for (var i = 0; i < SourceCount + 2; i++)
        {
            var page = await PageServer.StartAsync();
            page.Serve($"<h2>Fees</h2><p>Page {i}: £100.</p>");
            _pages.Add(page);
        }
    }

    [PostgresOnlyFact("several nodes share one PostgreSQL database")]
    public async Task Sources_saved_on_the_web_node_are_checked_by_the_workers_each_once()
    {
        _nodes = await Nodes.StartAsync(workers: 2);
        using var admin = _nodes.Web.ApiClient();
        var ids = new List<Guid>();
        for (var i = 0; i < SourceCount; i++) ids.Add(await CreateAsync(admin, _pages[i].Url));

        await Eventually.True(() => Checks() >= SourceCount, $"a baseline of each of the {SourceCount} sources", TimeSpan.FromSeconds(60),
            () => $"{Checks()} checks");
        // Two more sweeps have run once a source made after the baselines, then another, have their own baselines.
        for (var canary = SourceCount; canary < SourceCount + 2; canary++)
        {
            var id = await CreateAsync(admin, _pages[canary].Url);
            await Eventually.True(() => Checks(id) == 1, "the next sweep's baseline", TimeSpan.FromSeconds(60));
        }

        Assert.Equal(SourceCount + 2, Checks());
        Assert.Equal(SourceCount + 2, Hub.Scalar(_nodes.DataDirectory, "SELECT count(*) FROM source_checks WHERE outcome = 'baseline' AND trigger = 'scheduled'"));
        Assert.All(_pages, page => Assert.Single(page.Requests));
        foreach (var id in ids)
        {
            var source = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}");
            var wait = source.GetProperty("nextCheckAt").GetDateTime() - source.GetProperty("lastCheckedAt").GetDateTime();
            Assert.InRange(wait, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(61));
        }
    }

    private long Checks() => Hub.Scalar(_nodes.DataDirectory, "SELECT count(*) FROM source_checks");

    private long Checks(Guid sourceId) => Hub.Scalar(_nodes.DataDirectory, $"SELECT count(*) FROM source_checks WHERE source_id = '{sourceId}'");

    private static async Task<Guid> CreateAsync(HttpClient admin, string url)
    {
        var response = await admin.PostAsJsonAsync("/api/sources",
            new { name = "Fees " + url, url, route = "fees-" + Guid.NewGuid().ToString("n")[..8], intervalSeconds = 60 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task DisposeAsync()
    {
        if (_nodes is not null) await _nodes.DisposeAsync();
        foreach (var page in _pages) await page.DisposeAsync();
    }
}
