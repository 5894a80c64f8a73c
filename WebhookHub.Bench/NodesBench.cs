using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WebhookHub.Core;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.Bench;

/// <summary>
/// <c>nodes</c> mode (issue 14): several processes of the built app on one PostgreSQL database, one web node that
/// stores changes and worker nodes that claim and deliver them. Four measurements, each on a fresh database and fresh
/// nodes: 1 web + 1 worker, then 1 web + 2 workers, with receivers that answer after <c>--delay-ms</c> (capacity bound
/// by requests in flight per worker, not CPU; goal 2 workers ≥ 1.7× one), then the same with receivers that answer at
/// once (the fan-out figure, bound by the two cores that PostgreSQL, three app processes and the receivers share).
/// Deliveries/s = distinct deliveries at the receivers / first post to last new receipt, checked against the
/// database; each node's share of the attempts from its /metrics; CPU per process from /proc.
/// </summary>
public static class NodesBench
{
    private const int PostParallelism = 16;

    private sealed record Shape(int SlowChanges, int SlowWebhooks, TimeSpan Delay, int SlowFanouts, int FastChanges, int FastWebhooks, int Ports, bool Roles);

    private sealed record Node(string Name, AppProcess Process);

    /// <summary>One measurement: <paramref name="Kind"/> slow (receivers answer after the delay) or fast, on its own fresh database and nodes.</summary>
    private sealed record Phase(string Kind, int Workers, int Changes, int Webhooks, int? FanoutConcurrency);

    // dotnet run -c Release --project WebhookHub.Bench -- nodes --postgres '<server>' [--changes 150] [--webhooks 64] [--delay-ms 100]
    //     [--slow-fanouts 1] [--fast-changes 100] [--fast-webhooks 100] [--ports 8] [--roles on|off] [--only slow|fast]
    public static async Task RunAsync(string[] args)
    {
        var shape = new Shape(
            SlowChanges: (int)BenchDatabase.Option(args, "--changes", 150),
            SlowWebhooks: (int)BenchDatabase.Option(args, "--webhooks", 64),
            Delay: TimeSpan.FromMilliseconds(BenchDatabase.Option(args, "--delay-ms", 100)),
            SlowFanouts: (int)BenchDatabase.Option(args, "--slow-fanouts", 1),
            FastChanges: (int)BenchDatabase.Option(args, "--fast-changes", 100),
            FastWebhooks: (int)BenchDatabase.Option(args, "--fast-webhooks", 100),
            Ports: (int)BenchDatabase.Option(args, "--ports", 8),
            // off: every node runs everything (Role unset) and changes are posted to the workers in turn.
            Roles: BenchDatabase.Value(args, "--roles") != "off");
        Console.WriteLine($"WebhookHub.Bench nodes: {Environment.ProcessorCount} cores, .NET {Environment.Version}; " +
                          $"{(shape.Roles ? "1 web node (WebhookHub:Role=web) takes every change, workers (Role=worker) claim and deliver" : "roles off: every node Role=all, changes posted to the workers in turn")}");
        Console.WriteLine($"load at start: {BenchMain.Load()}");
        var run = Stopwatch.StartNew();
        PrintBound(shape);

        await using var receiver = await NodesReceiver.StartAsync(shape.Ports, shape.Delay);
        // The two counts of one kind run back to back, so the machine's other load is as alike as it gets.
        Phase[] phases =
        [
            new("slow", 1, shape.SlowChanges, shape.SlowWebhooks, shape.SlowFanouts), new("slow", 2, shape.SlowChanges, shape.SlowWebhooks, shape.SlowFanouts),
            new("fast", 1, shape.FastChanges, shape.FastWebhooks, null), new("fast", 2, shape.FastChanges, shape.FastWebhooks, null),
        ];
        var only = BenchDatabase.Value(args, "--only");
        var results = new Dictionary<Phase, double>();
        foreach (var phase in phases.Where(p => only is null || p.Kind == only))
        {
            await using var database = await BenchDatabase.CreateAsync(BenchProvider.Postgres, args, "nodes");
            Console.WriteLine($"--- {Title(phase, shape)}: 1 web + {phase.Workers} worker{(phase.Workers > 1 ? "s" : "")}, database " +
                              $"{new NpgsqlConnectionStringBuilder(database.ConnectionString).Database}   [load {BenchMain.Load()}]");
            results[phase] = await RunClusterAsync(database, receiver, phase, shape);
        }

        foreach (var kind in new[] { "slow", "fast" }.Where(k => only is null || k == only))
        {
            var one = results.Single(r => r.Key.Workers == 1 && r.Key.Kind == kind).Value;
            var two = results.Single(r => r.Key.Workers == 2 && r.Key.Kind == kind).Value;
            Console.WriteLine(kind == "slow"
                ? $"[nodes] receivers answering in {shape.Delay.TotalMilliseconds:0} ms: 2 workers / 1 worker = {two:0} / {one:0} deliveries/s = {two / one:0.00} (goal >= 1.7)"
                : $"[nodes] fast receivers (fan-out): 2 workers / 1 worker = {two:0} / {one:0} deliveries/s = {two / one:0.00}");
        }
        Console.WriteLine($"load at end: {BenchMain.Load()}; the run took {run.Elapsed.TotalMinutes:0.0} min");
    }

    private static string Title(Phase phase, Shape shape) => phase.Kind == "slow"
        ? $"receivers answering in {shape.Delay.TotalMilliseconds:0} ms, FanoutConcurrency {phase.FanoutConcurrency}"
        : "fast receivers, default settings";

    /// <summary>
    /// What caps one worker's requests in flight in the slow shape. With the defaults (8 fan-outs at once, 64 sends each)
    /// a worker could have 512 requests out, 5,120 deliveries/s at 100 ms: far past what two cores record, so the slow
    /// shape runs its workers with fewer fan-outs at once (<c>--slow-fanouts</c>, default 1) and as many webhooks as a
    /// fan-out sends at once, to make in-flight requests, not CPU, the limit.
    /// </summary>
    private static void PrintBound(Shape shape)
    {
        var delivery = new WebhookHubOptions().Delivery;
        var endpoints = delivery.Endpoints;
        var (w, p) = (shape.SlowWebhooks, Math.Min(shape.Ports, shape.SlowWebhooks));
        var byFanouts = shape.SlowFanouts * Math.Min(w, delivery.MaxParallelSends);
        var byWebhook = w * endpoints.MaxInFlightPerEndpoint;
        var byHost = p * Math.Min(endpoints.MaxInFlightPerHost, delivery.MaxConnectionsPerServer);
        var bound = Math.Min(byFanouts, Math.Min(byWebhook, byHost));
        Console.WriteLine($"slow shape: {shape.SlowChanges} changes x {w} webhooks (route slow) on {p} receiver ports, answer after {shape.Delay.TotalMilliseconds:0} ms; " +
                          $"fast shape: {shape.FastChanges} changes x {shape.FastWebhooks} webhooks (route fast) on {shape.Ports} ports, answer at once");
        Console.WriteLine($"slow: in flight per worker <= min({shape.SlowFanouts} fan-outs at once (FanoutConcurrency, default {delivery.FanoutConcurrency}) x min({w} webhooks, MaxParallelSends {delivery.MaxParallelSends}) = {byFanouts}, " +
                          $"{w} webhooks x MaxInFlightPerEndpoint {endpoints.MaxInFlightPerEndpoint} = {byWebhook}, " +
                          $"{p} host:ports x MaxInFlightPerHost {endpoints.MaxInFlightPerHost} = {byHost}) = {bound} " +
                          $"-> at most {bound / shape.Delay.TotalSeconds:0} deliveries/s per worker, less each fan-out's own time (claim, store, record) between its sends " +
                          $"(no maxPerSecond; a fan-out hands off only sends waiting for a full lane or out > HandOffAfterMs {endpoints.HandOffAfterMs}). " +
                          $"With the defaults a worker could have {delivery.FanoutConcurrency * delivery.MaxParallelSends} out ({delivery.FanoutConcurrency * delivery.MaxParallelSends / shape.Delay.TotalSeconds:0}/s): CPU would bind first");
    }

    private static async Task<double> RunClusterAsync(BenchDatabase database, NodesReceiver receiver, Phase phase, Shape shape)
    {
        var postmaster = await ProcessCpu.PostmasterAsync(database.ConnectionString!);
        Dictionary<string, string> Settings(string name, string role)
        {
            var settings = new Dictionary<string, string>
            {
                ["WebhookHub__Database__Provider"] = "Postgres",
                ["ConnectionStrings__WebhookHub"] = database.ConnectionString!,
                ["WebhookHub__NodeId"] = name,
                // The bench is the only API client; the per-user limit is not what is measured.
                ["WebhookHub__Api__RequestsPerSecond"] = "5000",
                ["WebhookHub__Api__Burst"] = "5000",
            };
            if (shape.Roles) settings["WebhookHub__Role"] = role;
            if (phase.FanoutConcurrency is { } fanouts) settings["WebhookHub__Delivery__FanoutConcurrency"] = fanouts.ToString(CultureInfo.InvariantCulture);
            return settings;
        }

        // The web node first: it migrates the database and bootstraps the admin before the workers start. The key that
        // protects the webhooks' secrets is in the database (data_protection_keys), for every node.
        var web = new Node("web", await AppProcess.StartAsync(database.DataDirectory, Settings("web", "web")));
        var nodes = new List<Node> { web };
        try
        {
            using var api = web.Process.ApiClient();
            for (var i = 0; i < phase.Webhooks; i++) await CreateWebhookAsync(api, receiver.Url(phase.Kind, i), phase.Kind);
            var started = await Task.WhenAll(Enumerable.Range(1, phase.Workers)
                .Select(async i => new Node($"worker-{i}", await AppProcess.StartAsync(database.DataDirectory, Settings($"worker-{i}", "worker")))));
            nodes.AddRange(started);
            var workers = started.ToList();
            var posters = (shape.Roles ? new List<Node> { web } : workers).Select(n => n.Process.ApiClient()).ToList();
            Console.WriteLine($"    nodes up: {string.Join(", ", nodes.Select(n => $"{n.Name} pid {n.Process.ProcessId}"))}; PostgreSQL postmaster pid {postmaster?.ToString(CultureInfo.InvariantCulture) ?? "not on this machine"}");

            // Warm-up, not measured: rounds of the same shape (connection pools, PostgreSQL's caches), each followed by a pause
            // until the nodes are quiet again. Tiered JIT recompiles hot methods in the background after a round (with
            // dynamic PGO twice: instrumented, then optimized); a profile of a worker measured after three rounds without
            // pauses, on a loaded machine, was one third libclrjit.
            var warming = Stopwatch.StartNew();
            for (var round = 0; round < WarmupRounds; round++)
            {
                await MeasureAsync("warm-up", phase.Kind, phase.Webhooks, Math.Max(10, phase.Changes / 10), posters, nodes, receiver, database, postmaster, quiet: true);
                await SettleAsync(nodes, TimeSpan.FromSeconds(6));
            }
            Console.WriteLine($"    warm-up: {WarmupRounds} rounds of {Math.Max(10, phase.Changes / 10)} changes, each followed by a pause until every node used < {QuietShare:P0} of a core for a second: {warming.Elapsed.TotalSeconds:0} s");
            // What the nodes and the server cost with nothing to deliver (Hangfire's polls, the endpoint supervisor, background JIT).
            var idleBefore = CpuSnapshot(nodes, postmaster);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var idleAfter = CpuSnapshot(nodes, postmaster);
            Console.WriteLine("    idle 3 s after the warm-up, % of one core: " + string.Join(", ", idleAfter.Where(c => c.Key != "machine")
                .Select(c => $"{c.Key} {(c.Value - idleBefore[c.Key]) / 3:P0}")) + $"; whole machine {(idleAfter["machine"] - idleBefore["machine"]) / 3:P0}   [load {BenchMain.Load()}]");

            var perSecond = await MeasureAsync($"{phase.Workers} worker{(phase.Workers > 1 ? "s" : "")}, {Title(phase, shape)}", phase.Kind, phase.Webhooks, phase.Changes,
                posters, nodes, receiver, database, postmaster);
            foreach (var poster in posters) poster.Dispose();
            return perSecond;
        }
        finally
        {
            foreach (var node in nodes) await node.Process.DisposeAsync();
        }
    }

    /// <summary>Posts <paramref name="changes"/> changes on <paramref name="route"/> and waits for every delivery; prints the phase unless quiet. Deliveries/s.</summary>
    private static async Task<double> MeasureAsync(string title, string route, int webhooks, int changes, List<HttpClient> posters, List<Node> nodes,
        NodesReceiver receiver, BenchDatabase database, int? postmaster, bool quiet = false)
    {
        var expected = (long)changes * webhooks;
        var loadBefore = BenchMain.Load();
        var attemptsBefore = await AttemptsByNodeAsync(nodes);
        var cpuBefore = CpuSnapshot(nodes, postmaster);
        receiver.ResetPeak();
        var before = receiver.Snapshot();

        var ids = new Guid[changes];
        await using var activity = quiet ? null : PgActivity.Start(database.ConnectionString!);
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, changes, new ParallelOptions { MaxDegreeOfParallelism = PostParallelism },
            async (i, _) => ids[i] = await BenchMain.Report(posters[i % posters.Count], route));
        var ingested = Stopwatch.GetElapsedTime(started);
        await receiver.WaitForDistinctAsync(before.Distinct + expected, TimeSpan.FromMinutes(5));
        var after = receiver.Snapshot();
        var cpuAfter = CpuSnapshot(nodes, postmaster);
        var sessions = activity is null ? null : await activity.StopAsync();
        var elapsed = Stopwatch.GetElapsedTime(started, after.LastNewTicks);
        var loadAfter = BenchMain.Load();
        var (delivered, attempts) = await RecordedAsync(database, ids, expected);
        var perSecond = expected / elapsed.TotalSeconds;
        if (quiet) return perSecond;

        var attemptsAfter = await AttemptsByNodeAsync(nodes);
        var requests = after.Requests - before.Requests;
        var meanInFlight = (after.InFlightSeconds - before.InFlightSeconds) / elapsed.TotalSeconds;
        Console.WriteLine($"[nodes] {title}: {changes} changes x {webhooks} webhooks = {expected} deliveries in {elapsed.TotalSeconds:0.00} s " +
                          $"(all {changes} ingested in {ingested.TotalSeconds:0.00} s, {PostParallelism} posts at a time) -> {perSecond:0} deliveries/s   [load {loadBefore} -> {loadAfter}]");
        Console.WriteLine($"    receivers: {requests} requests ({requests - expected} repeats), mean {meanInFlight:0.0} in flight, peak {after.MaxInFlight}; " +
                          $"database: {delivered} of {expected} deliveries succeeded, {attempts} attempt rows");
        var shares = nodes.Select(n => (n.Name, Attempts: attemptsAfter[n.Name] - attemptsBefore[n.Name])).ToList();
        var total = Math.Max(1, shares.Where(s => s.Attempts > 0).Sum(s => s.Attempts));
        Console.WriteLine("    attempts by node (/metrics webhookhub_delivery_attempts_total): " +
                          string.Join(", ", shares.Select(s => s.Attempts < 0 ? $"{s.Name} n/a" : $"{s.Name} {s.Attempts} ({(double)s.Attempts / total:P0})")));
        var available = elapsed.TotalSeconds * Environment.ProcessorCount;
        var used = cpuAfter.Select(c => (c.Key, Seconds: c.Value - cpuBefore[c.Key])).ToList();
        var ours = used.Where(u => u.Key != "machine").Sum(u => u.Seconds);
        var machine = used.Single(u => u.Key == "machine").Seconds;
        Console.WriteLine($"    CPU seconds of {available:0.0} available ({Environment.ProcessorCount} cores x {elapsed.TotalSeconds:0.00} s): " +
                          string.Join(", ", used.Where(u => u.Key != "machine").Select(u => $"{u.Key} {u.Seconds:0.0}")) +
                          $", everything else on the machine {Math.Max(0, machine - ours):0.0}, idle {Math.Max(0, available - machine):0.0}; " +
                          $"ours {ours * 1e6 / expected:0} µs per delivery");
        Console.WriteLine($"    PostgreSQL sessions of this database, every 50 ms: {sessions}");
        return perSecond;
    }

    private const int WarmupRounds = 4;
    private const double QuietShare = 0.15;

    /// <summary>Waits until every node used less than <see cref="QuietShare"/> of a core over a second (background JIT done), or <paramref name="atMost"/>.</summary>
    private static async Task SettleAsync(List<Node> nodes, TimeSpan atMost)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < atMost)
        {
            var before = nodes.Select(n => ProcessCpu.Seconds(n.Process.ProcessId)).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (nodes.Select((n, i) => ProcessCpu.Seconds(n.Process.ProcessId) - before[i]).All(used => used < QuietShare)) return;
        }
    }

    /// <summary>CPU seconds so far of each node, PostgreSQL, this process (receivers and client) and the whole machine.</summary>
    private static Dictionary<string, double> CpuSnapshot(List<Node> nodes, int? postmaster)
    {
        var cpu = nodes.ToDictionary(n => n.Name, n => ProcessCpu.Seconds(n.Process.ProcessId));
        if (postmaster is { } pid) cpu["PostgreSQL"] = ProcessCpu.ServerSeconds(pid);
        cpu["bench (receivers, client)"] = ProcessCpu.Seconds(Environment.ProcessId);
        cpu["machine"] = ProcessCpu.MachineBusySeconds();
        return cpu;
    }

    /// <summary>Each node's <c>webhookhub_delivery_attempts_total</c> (all outcomes); -1 when its /metrics does not answer.</summary>
    private static async Task<Dictionary<string, long>> AttemptsByNodeAsync(List<Node> nodes)
    {
        var counts = new Dictionary<string, long>();
        foreach (var node in nodes)
        {
            try
            {
                using var client = node.Process.ApiClient();
                var text = await client.GetStringAsync("/metrics");
                counts[node.Name] = (long)text.Split('\n')
                    .Where(l => l.StartsWith("webhookhub_delivery_attempts_total", StringComparison.Ordinal))
                    .Sum(l => double.Parse(l[(l.IndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
            }
            catch (HttpRequestException)
            {
                counts[node.Name] = -1;
            }
        }
        return counts;
    }

    /// <summary>Waits (up to a minute) until the database says every delivery of these changes succeeded; its successes and attempt rows.</summary>
    private static async Task<(long Delivered, long Attempts)> RecordedAsync(BenchDatabase database, Guid[] changes, long expected)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM deliveries WHERE policy_change_id = ANY(@ids) AND status = 'success'), " +
                "(SELECT count(*) FROM webhook_deliveries WHERE policy_change_id = ANY(@ids))", connection);
            command.Parameters.AddWithValue("ids", changes);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (delivered, attempts) = (reader.GetInt64(0), reader.GetInt64(1));
            if (delivered >= expected || Stopwatch.GetTimestamp() > deadline) return (delivered, attempts);
            await reader.DisposeAsync();
            await Task.Delay(100);
        }
    }

    private static async Task CreateWebhookAsync(HttpClient api, string url, string route)
    {
        var response = await api.PostAsJsonAsync("/api/webhooks", new { name = $"nodes {route} {url}", url, routes = new[] { route } });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST /api/webhooks {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        _ = await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
