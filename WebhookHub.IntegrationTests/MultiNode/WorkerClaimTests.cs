using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using WebhookHub.IntegrationTests.Infrastructure;
using WebhookHub.IntegrationTests.Reliability;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// Several processes on one PostgreSQL database, as an operator runs them: one web node takes the changes, two
/// worker nodes claim and deliver them. Real processes (<see cref="AppProcess"/>), real receivers on 127.0.0.1.
/// </summary>
public sealed class WorkerClaimTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Nodes _nodes = null!;
    private TestReceiver _receiver = null!;

    /// <summary>Every (change id, path) the receiver got, with how many times.</summary>
    private readonly ConcurrentDictionary<(string Change, string Path), int> _received = new();

    private string Data => _nodes.DataDirectory;

    public async Task InitializeAsync()
    {
        _receiver = await TestReceiver.StartAsync();
        _receiver.Respond((_, request) =>
        {
            _received.AddOrUpdate((Hub.ChangeIdOf(request), request.Path), 1, (_, n) => n + 1);
            return Results.Ok();
        });
    }

    [PostgresOnlyFact("several nodes share one PostgreSQL database")]
    public async Task Two_workers_share_1000_changes_to_20_webhooks_and_deliver_each_exactly_once()
    {
        _nodes = await Nodes.StartAsync(workers: 2);
        var (web, workers) = (_nodes.Web, _nodes.Workers);
        var paths = await CreateWebhooksAsync(web, 20);

        var posted = Stopwatch.StartNew();
        var changes = await PostChangesAsync(web, 1000);
        output.WriteLine($"1000 changes posted to the web node in {posted.Elapsed.TotalSeconds:0.0} s");
        var expected = changes.SelectMany(c => paths.Select(p => (c, p))).ToList();
        await Eventually.True(() => expected.All(_received.ContainsKey), "every (change, webhook) received", TimeSpan.FromSeconds(120),
            () => $"{expected.Count(k => !_received.ContainsKey(k))} of {expected.Count} not received");
        output.WriteLine($"all {expected.Count} deliveries received {posted.Elapsed.TotalSeconds:0.0} s after the first post");

        var twice = expected.Where(k => _received[k] > 1).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} deliveries arrived more than once, e.g. {string.Join(", ", twice.Take(3))}");
        await Eventually.True(() => Hub.Scalar(Data, "SELECT count(*) FROM deliveries WHERE status = 'success'") == expected.Count,
            "every delivery recorded as successful once", TimeSpan.FromSeconds(30),
            () => $"{Hub.Scalar(Data, "SELECT count(*) FROM deliveries WHERE status = 'success'")} successful of {expected.Count}");
        Assert.Equal(expected.Count, Hub.Scalar(Data, "SELECT count(*) FROM deliveries"));
        Assert.Equal(0, Hub.Scalar(Data, "SELECT count(*) FROM policy_changes WHERE fan_out_owner IS NOT NULL OR fanned_out_at IS NULL"));

        // Each node's /metrics counts only its own attempts: together they are every attempt, and both did a share.
        var perNode = new List<double>();
        foreach (var worker in workers) perNode.Add(await AttemptsCountedByAsync(worker));
        output.WriteLine($"attempts per worker: {string.Join(" / ", perNode)}");
        Assert.Equal(expected.Count, perNode.Sum());
        Assert.All(perNode, n => Assert.True(n >= expected.Count / 10, $"a worker made only {n} of {expected.Count} attempts: {string.Join(" / ", perNode)}"));
        Assert.Equal(0, await AttemptsCountedByAsync(web));
    }

    [PostgresOnlyFact("several nodes share one PostgreSQL database")]
    public async Task A_worker_killed_mid_load_loses_nothing_and_the_other_takes_its_claims_within_30_s()
    {
        _nodes = await Nodes.StartAsync(workers: 2);
        var (web, workers) = (_nodes.Web, _nodes.Workers);
        var paths = await CreateWebhooksAsync(web, 10);
        // Answers take 100-200 ms, so a worker always holds claims with sends out: the kill lands mid-flight. (With
        // instant answers a quiet machine delivered everything before the test could look.)
        _receiver.RespondAsync(async (_, request) =>
        {
            await Task.Delay(Random.Shared.Next(100, 200));
            _received.AddOrUpdate((Hub.ChangeIdOf(request), request.Path), 1, (_, n) => n + 1);
            return Results.Ok();
        });

        var changes = await PostChangesAsync(web, 400);
        var expected = changes.SelectMany(c => paths.Select(p => (c, p))).ToList();
        await Eventually.True(() => _received.Count >= expected.Count / 10, "a tenth received before the kill", TimeSpan.FromSeconds(60),
            () => $"{_received.Count} received");
        var victim = workers[0];
        var killedAttempts = await AttemptsCountedByAsync(victim);
        var claimedByVictim = Hub.Scalar(Data, "SELECT count(*) FROM policy_changes WHERE fan_out_owner = '{Nodes.WorkerNode(1)}'");
        victim.Kill();
        var killed = Stopwatch.StartNew();
        var owed = expected.Count(k => !_received.ContainsKey(k));
        output.WriteLine($"killed worker-1 after {killedAttempts} of its attempts, holding {claimedByVictim} claims, {owed} deliveries owed");
        Assert.True(owed > 0, "everything was delivered before the kill: the test did not kill mid-load");

        await Eventually.True(() => expected.All(_received.ContainsKey), "every (change, webhook) received after the kill", TimeSpan.FromSeconds(90),
            () => $"{expected.Count(k => !_received.ContainsKey(k))} of {expected.Count} not received\n{string.Join('\n', workers[1].Output.TakeLast(20))}");
        var recovered = killed.Elapsed;
        output.WriteLine($"all {expected.Count} received {recovered.TotalSeconds:0.0} s after the kill; "
            + $"{expected.Count(k => _received[k] > 1)} received twice (in flight at the kill: at least once)");
        Assert.True(recovered < TimeSpan.FromSeconds(30), $"the surviving worker took {recovered.TotalSeconds:0.0} s to finish the dead one's work");
        await Eventually.True(() => Hub.Scalar(Data, "SELECT count(*) FROM deliveries WHERE status = 'success'") == expected.Count,
            "every delivery recorded as successful", TimeSpan.FromSeconds(30),
            () => $"{Hub.Scalar(Data, "SELECT count(*) FROM deliveries WHERE status = 'success'")} successful of {expected.Count}");
    }

    private async Task<List<string>> CreateWebhooksAsync(AppProcess web, int count)
    {
        var paths = Enumerable.Range(0, count).Select(i => $"/node-hook-{i}").ToList();
        using var api = web.ApiClient();
        foreach (var path in paths) await Hub.CreateWebhookAsync(api, _receiver.Url(path));
        return paths;
    }

    /// <summary>Posts the changes to the web node, eight at a time; the ids as receivers see them.</summary>
    private static async Task<List<string>> PostChangesAsync(AppProcess web, int count)
    {
        using var api = web.ApiClient();
        var ids = new ConcurrentBag<string>();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (_, _) => ids.Add((await Hub.PostChangeAsync(api)).ToString()));
        return ids.ToList();
    }

    /// <summary>The node's own <c>webhookhub_delivery_attempts_total</c>, every outcome.</summary>
    private static async Task<double> AttemptsCountedByAsync(AppProcess node)
    {
        using var api = node.ApiClient();
        var text = await api.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith("webhookhub_delivery_attempts_total{", StringComparison.Ordinal))
            .Sum(line => Prometheus.Sample(line, "webhookhub_delivery_attempts_total") ?? 0);
    }

    public async Task DisposeAsync()
    {
        if (_nodes is not null) await _nodes.DisposeAsync();
        await _receiver.DisposeAsync();
    }
}
