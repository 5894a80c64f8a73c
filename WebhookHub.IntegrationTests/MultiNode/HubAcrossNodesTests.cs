using Microsoft.AspNetCore.Http;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// <c>/hubs/deliveries</c> across nodes: a customer connected to the web node gets the attempts the worker node
/// makes for its webhooks, each once, within a second, and never another customer's (events bridge, issue 14).
/// </summary>
public sealed class HubAcrossNodesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Nodes _nodes = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await TestReceiver.StartAsync();
        _nodes = await Nodes.StartAsync();
    }

    public async Task DisposeAsync()
    {
        output.WriteLine("web node:\n" + string.Join('\n', _nodes.Web.Output.TakeLast(60)));
        output.WriteLine("worker node:\n" + string.Join('\n', _nodes.Worker.Output.TakeLast(60)));
        await _nodes.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [PostgresOnlyFact("several nodes share one PostgreSQL database and its LISTEN/NOTIFY")]
    public async Task A_customer_on_node_A_gets_its_own_attempts_made_on_node_B_once_and_never_another_customers()
    {
        _receiver.Respond((_, _) => Results.Ok());
        using var x = await _nodes.CreateCustomerAsync();
        using var y = await _nodes.CreateCustomerAsync();
        var hookX = await Nodes.CreateWebhookAsync(x.Client, "x-orders", _receiver.Url("/x"));
        var hookY = await Nodes.CreateWebhookAsync(y.Client, "y-crm", _receiver.Url("/y"));
        await using var xOnWeb = await Nodes.ListenAsync(_nodes.Web, x.ApiKey);
        await using var staffOnWeb = await Nodes.ListenAsync(_nodes.Web, AppProcess.AdminApiKey);

        // One change at a time: each attempt's trip from the worker's record to the web node's hub client, unhurried.
        const int single = 8;
        var latencies = new List<double>();
        for (var i = 1; i <= single; i++)
        {
            await _nodes.PostChangeAsync(i);
            await Eventually.True(() => xOnWeb.Of("attemptRecorded").Count >= i, $"customer X's attempt {i} on the web node", state: xOnWeb.Describe);
            var attempt = xOnWeb.Of("attemptRecorded")[i - 1];
            latencies.Add((attempt.ReceivedAt - attempt.Body.GetProperty("at").GetDateTimeOffset()).TotalMilliseconds);
        }
        // Then a burst, recorded in batches on the worker.
        const int burst = 20;
        await Task.WhenAll(Enumerable.Range(100, burst).Select(_nodes.PostChangeAsync));
        const int changes = single + burst;

        await Eventually.True(() => staffOnWeb.Of("attemptRecorded").Count >= 2 * changes && xOnWeb.Of("attemptRecorded").Count >= changes,
            "every attempt of both webhooks on the web node", state: () => $"staff: {staffOnWeb.Describe()}; X: {xOnWeb.Describe()}");
        Assert.Equal((2L * changes, 2L * changes), _nodes.AttemptCounts());
        Assert.Equal(changes, _receiver.RequestsTo("/x").Count());

        // Once each, and only X's own webhook on X's connection, though Y's attempts were recorded in the same batches.
        var xAttempts = xOnWeb.Of("attemptRecorded");
        Assert.All(xOnWeb.Messages, m => Assert.Equal(hookX, m.WebhookId));
        Assert.Equal(changes, xAttempts.Count);
        Assert.Equal(changes, xAttempts.Select(m => m.Body.GetProperty("deliveryId").GetGuid()).Distinct().Count());
        var staffAttempts = staffOnWeb.Of("attemptRecorded");
        Assert.Equal(2 * changes, staffAttempts.Count);
        Assert.Equal(2 * changes, staffAttempts.Select(m => m.Body.GetProperty("deliveryId").GetGuid()).Distinct().Count());
        Assert.Equal(changes, staffAttempts.Count(m => m.WebhookId == hookY));
        Assert.All(xAttempts, m => Assert.Equal("success", m.Body.GetProperty("status").GetString()));

        var sorted = latencies.Order().ToList();
        output.WriteLine($"Attempt recorded on {Nodes.WorkerNode(1)} → event on {Nodes.WebNode}'s hub client, ms: "
            + $"{string.Join(", ", latencies.Select(l => l.ToString("0")))}; median {sorted[sorted.Count / 2]:0}, max {sorted[^1]:0}");
        // The issue's second, as the median: on two cores shared with other builds a sample (often the first, on cold paths) can take longer.
        Assert.InRange(sorted[sorted.Count / 2], 0, 1000);
        Assert.All(latencies, l => Assert.InRange(l, 0, 5000));
    }
}
