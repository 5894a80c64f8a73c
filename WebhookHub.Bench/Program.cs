using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hangfire;
using Hangfire.Storage.SQLite;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Core.Signing;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Bench;

/// <summary>The benchmark entry point; named so it does not clash with the app's own <c>Program</c>.</summary>
public static class BenchMain
{
    public static async Task Main(string[] args)
    {
        // dotnet run -c Release --project WebhookHub.Bench [-- --quick] [--fanout-only]
        // dotnet run -c Release --project WebhookHub.Bench -- soak [--minutes 10] [--rate 5]
        if (args.FirstOrDefault() == "soak")
        {
            await Soak.RunAsync(args);
            return;
        }
        // dotnet run -c Release --project WebhookHub.Bench -- history [--attempts 250000]
        if (args.FirstOrDefault() == "history")
        {
            await HistoryBench.RunAsync(args);
            return;
        }
        // dotnet run -c Release --project WebhookHub.Bench -- noisy [--minutes 2] [--healthy 50] [--backlog 1000]
        if (args.FirstOrDefault() == "noisy")
        {
            await Noisy.RunAsync(args);
            return;
        }
        // dotnet run -c Release --project WebhookHub.Bench -- writers [--provider sqlite|postgres|both] [--batch 100]
        if (args.FirstOrDefault() == "writers")
        {
            await WriterBench.RunAsync(args);
            return;
        }
        // dotnet run -c Release --project WebhookHub.Bench -- nodes --postgres '<server>' [--changes 150] [--webhooks 64] [--delay-ms 100]
        if (args.FirstOrDefault() == "nodes")
        {
            await NodesBench.RunAsync(args);
            return;
        }
        var quick = args.Contains("--quick");
        var run = new Run(
            FanoutOnly: args.Contains("--fanout-only"),
            FanoutWebhooks: 100,
            FanoutChanges: quick ? 20 : 100,
            SteadyRate: 50,
            SteadySeconds: quick ? 5 : 20);
        var plainCount = quick ? 3_000 : 10_000;
        var naiveCount = quick ? 300 : 1_000;
        var providers = BenchDatabase.Providers(args);
        var root = Path.Combine(Path.GetTempPath(), "webhookhub-bench-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(root);

        Console.WriteLine($"WebhookHub.Bench ({(quick ? "quick" : "full")}, {string.Join(" then ", providers)}): {Environment.ProcessorCount} cores, .NET {Environment.Version}, data in {root}");
        Console.WriteLine($"load at start: {Load()}");

        await using var receiver = await Receiver.StartAsync();
        var results = new List<(BenchProvider Provider, double FanoutPerSecond, double SteadyP99Ms)>();
        foreach (var provider in providers)
        {
            await using var database = await BenchDatabase.CreateAsync(provider, args, "bench");
            Console.WriteLine($"--- {provider}{(database.ConnectionString is { } cs ? " (" + new Npgsql.NpgsqlConnectionStringBuilder(cs).Database + ")" : "")}");
            var (fanout, p99) = await RunAppAsync(database, receiver, run);
            results.Add((provider, fanout, p99));
        }
        if (run.FanoutOnly) return;
        Console.WriteLine($"[3] peak RSS (VmHWM) of the bench process after [1] and [2] (app, Hangfire, receiver, client): {PeakRssMb():0} MB");

        // Baseline A: plain signed HttpClient POSTs, no persistence: the machine's limit.
        {
            receiver.Reset();
            var loadBefore = Load();
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 });
            var secret = WebhookSecret.Generate();
            var body = Encoding.UTF8.GetBytes(SampleBody());
            var url = receiver.Url("/plain");
            var started = Stopwatch.GetTimestamp();
            await Parallel.ForAsync(0, plainCount, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                foreach (var (name, value) in WebhookSigner.Sign([secret], "evt_plain", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body).All())
                    request.Headers.TryAddWithoutValidation(name, value);
                using var response = await client.SendAsync(request, ct);
            });
            var elapsed = Stopwatch.GetElapsedTime(started);
            var plainPerSecond = plainCount / elapsed.TotalSeconds;
            Console.WriteLine($"[4] baseline plain HttpClient: {plainCount} signed POSTs, 64 in flight, no persistence: {plainPerSecond:0} POSTs/s   [load {loadBefore}]");

            // Baseline B: one Hangfire job per delivery, Hangfire's default options (SQLite storage, default server).
            receiver.Reset();
            loadBefore = Load();
            // The app's host (and its logger factory, which Hangfire logged through) is gone.
            Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
            var storage = new SQLiteStorage(Path.Combine(root, "naive-hangfire.db"), new SQLiteStorageOptions());
            var jobs = new BackgroundJobClient(storage);
            // Default options except the activator: the app's DI activator went with its host, and these jobs are static.
            using (var server = new BackgroundJobServer(new BackgroundJobServerOptions { Activator = new JobActivator() }, storage))
            {
                var naiveUrl = receiver.Url("/naive");
                var payload = SampleBody();
                var naiveStarted = Stopwatch.GetTimestamp();
                for (var i = 0; i < naiveCount; i++)
                    jobs.Enqueue(() => NaiveJob.Deliver(naiveUrl, payload, secret));
                await receiver.WaitForCountAsync(naiveCount, TimeSpan.FromMinutes(4));
                var naiveElapsed = Stopwatch.GetElapsedTime(naiveStarted, receiver.LastReceiptTicks);
                var naivePerSecond = naiveCount / naiveElapsed.TotalSeconds;
                Console.WriteLine($"[5] baseline naive: {naiveCount} deliveries as one Hangfire job each, default options " +
                                  $"({new BackgroundJobServerOptions().WorkerCount} workers): {naiveElapsed.TotalSeconds:0.0} s -> {naivePerSecond:0} deliveries/s   [load {loadBefore}]");
                foreach (var (provider, fanout, _) in results)
                    Console.WriteLine($"ratios ({provider}): ours/plain = {fanout / plainPerSecond:0.00}, ours/naive = {fanout / naivePerSecond:0.0}x");
            }
        }
        if (results.Count == 2)
        {
            var (sqlite, postgres) = (results[0], results[1]);
            Console.WriteLine($"PostgreSQL vs SQLite, same run: fan-out {postgres.FanoutPerSecond:0}/s vs {sqlite.FanoutPerSecond:0}/s = {postgres.FanoutPerSecond / sqlite.FanoutPerSecond:0.00} (goal >= 1); " +
                              $"p99 ingest-to-receipt at {run.SteadyRate} changes/s {postgres.SteadyP99Ms:0} ms vs {sqlite.SteadyP99Ms:0} ms (goal <= 50 ms on PostgreSQL)");
        }
        Console.WriteLine($"load at end: {Load()}");
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    private sealed record Run(bool FanoutOnly, int FanoutWebhooks, int FanoutChanges, int SteadyRate, int SteadySeconds);

    /// <summary>[0]–[2] on one database: the app in-process, its fan-out throughput and steady ingest-to-receipt latency (p99, ms).</summary>
    private static async Task<(double FanoutPerSecond, double SteadyP99Ms)> RunAppAsync(BenchDatabase database, Receiver receiver, Run run)
    {
        receiver.Reset();
        using var hub = new HubHost(database.DataDirectory, database.AppSettings());
        using var api = hub.Client();
        await hub.CreateWebhooksAsync(run.FanoutWebhooks, "bench-fanout", i => receiver.Url($"/fanout/{i}"));
        await hub.CreateWebhooksAsync(1, "bench-steady", _ => receiver.Url("/steady"));
        // Warm-up, not measured: a fan-out of the measured shape, so that [1] sees the app as it runs
        // after its first minutes (tiered JIT has compiled the hot path, pools and SQLite caches are filled).
        const int warmupRounds = 8, warmupChanges = 20;
        for (var round = 1; round <= warmupRounds; round++)
        {
            await Parallel.ForAsync(0, warmupChanges, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) => await Report(api, "bench-fanout"));
            await receiver.WaitForCountAsync(round * warmupChanges * run.FanoutWebhooks, TimeSpan.FromSeconds(60));
            await WaitUntilRecorded(hub, round * warmupChanges * run.FanoutWebhooks);
            // Tiered JIT compiles hot methods in the background a moment after they become hot.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        var warmupDeliveries = warmupRounds * warmupChanges * run.FanoutWebhooks;

        // (0) Where an ingest's time goes, on an idle app: the whole POST, an authenticated GET, a bare Hangfire enqueue.
        var post = new List<double>();
        var get = new List<double>();
        var enqueue = new List<double>();
        var hangfire = hub.Services.GetRequiredService<IBackgroundJobClient>();
        for (var i = 0; i < 20; i++)
        {
            var t = Stopwatch.GetTimestamp();
            await Report(api, "bench-nobody");
            post.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            t = Stopwatch.GetTimestamp();
            (await api.GetAsync("/api/policy-changes?pageSize=1")).EnsureSuccessStatusCode();
            get.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            t = Stopwatch.GetTimestamp();
            hangfire.Schedule(() => NaiveJob.Nothing(), TimeSpan.FromDays(1));
            enqueue.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        Console.WriteLine($"[0] idle, median of 20: POST /api/policy-changes {Median(post):0.0} ms, authenticated GET {Median(get):0.0} ms, " +
                          $"bare Hangfire job creation {Median(enqueue):0.0} ms   [load {Load()}]");

        // (1) Fan-out: every change goes to all 100 webhooks.
        receiver.Reset();
        var total = run.FanoutWebhooks * run.FanoutChanges;
        var loadBefore = Load();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        // SQLite's one writer; PostgreSQL has no gate.
        var gate = hub.Services.GetService<SqliteWriteGate>();
        var gateBefore = gate?.Totals;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, run.FanoutChanges, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) => await Report(api, "bench-fanout"));
        var ingested = Stopwatch.GetElapsedTime(started);
        await receiver.WaitForCountAsync(total, TimeSpan.FromMinutes(5));
        var elapsed = Stopwatch.GetElapsedTime(started, receiver.LastReceiptTicks);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var gateAfter = gate?.Totals;
        var oursPerSecond = total / elapsed.TotalSeconds;
        Console.WriteLine($"[1] fan-out: {run.FanoutWebhooks} webhooks x {run.FanoutChanges} policy changes = {total} deliveries in {elapsed.TotalSeconds:0.00} s " +
                          $"(all {run.FanoutChanges} ingested in {ingested.TotalSeconds:0.00} s) -> {oursPerSecond:0} deliveries/s   [load {loadBefore}]");
        Console.WriteLine($"    CPU of the whole process (app, receiver, client) meanwhile: {cpu.TotalSeconds:0.0} s of {elapsed.TotalSeconds * Environment.ProcessorCount:0.0} available, " +
                          $"{cpu.TotalMilliseconds * 1000 / total:0} µs per delivery");
        if (gateBefore is { } before && gateAfter is { } after)
            Console.WriteLine($"    app.db write gate (SQLite's one writer): {after.Writes - before.Writes} writes, held {(after.Held - before.Held).TotalSeconds:0.00} s " +
                              $"= {(after.Held - before.Held) / elapsed:P0} of the time");
        await WaitUntilRecorded(hub, total + warmupDeliveries);
        if (run.FanoutOnly) return (oursPerSecond, double.NaN);

        // (2) Steady: 50 changes a second to one webhook, ingest-to-receipt latency.
        receiver.Reset();
        loadBefore = Load();
        var count = run.SteadyRate * run.SteadySeconds;
        var sentAt = new long[count];
        var answeredAt = new long[count];
        var ids = new Guid[count];
        var clock = Stopwatch.StartNew();
        var posts = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / run.SteadyRate);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
            var n = i;
            posts.Add(Task.Run(async () =>
            {
                sentAt[n] = Stopwatch.GetTimestamp();
                ids[n] = await Report(api, "bench-steady");
                answeredAt[n] = Stopwatch.GetTimestamp();
            }));
        }
        await Task.WhenAll(posts);
        await receiver.WaitForCountAsync(count, TimeSpan.FromMinutes(2));
        var latencies = Enumerable.Range(0, count)
            .Select(i => Stopwatch.GetElapsedTime(sentAt[i], receiver.FirstReceiptByChange[ids[i]]).TotalMilliseconds)
            .Order().ToArray();
        Console.WriteLine($"[2] steady: {run.SteadyRate} changes/s for {run.SteadySeconds} s ({count} changes) to 1 webhook, ingest-to-receipt: " +
                          $"p50 {Pct(latencies, 0.50):0} ms, p95 {Pct(latencies, 0.95):0} ms, p99 {Pct(latencies, 0.99):0} ms, max {latencies[^1]:0} ms   [load {loadBefore}]");
        var answers = Enumerable.Range(0, count).Select(i => Stopwatch.GetElapsedTime(sentAt[i], answeredAt[i]).TotalMilliseconds).Order().ToArray();
        Console.WriteLine($"    of which the 202 answer to POST /api/policy-changes: p50 {Pct(answers, 0.50):0} ms, p99 {Pct(answers, 0.99):0} ms");
        return (oursPerSecond, Pct(latencies, 0.99));
    }

    internal static async Task<Guid> Report(HttpClient api, string route)
    {
        var response = await api.PostAsJsonAsync("/api/policy-changes", new { route, source = "https://bench.example/" + route, diff = "--- a/fees\n+++ b/fees\n-Application fee: £490\n+Application fee: £524\n", summary = "Fee rises" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    // Attempt rows are written after the receiver has the POST; let them land before the next measurement.
    private static async Task WaitUntilRecorded(HubHost hub, int attempts)
    {
        for (var i = 0; i < 600; i++)
        {
            using var scope = hub.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<WebhookHub.Core.Persistence.WebhookHubDbContext>();
            if (db.Attempts.Count() >= attempts) return;
            await Task.Delay(100);
        }
    }

    private static string SampleBody() =>
        "{\"id\":\"evt_plain\",\"type\":\"policy_change.detected\",\"timestamp\":\"2026-11-29T07:00:00Z\",\"data\":{\"policyChangeId\":\"00000000-0000-0000-0000-000000000000\",\"route\":\"bench\",\"source\":\"https://bench.example/\",\"detectedAt\":\"2026-11-29T07:00:00Z\",\"diff\":\"--- a/fees\\n+++ b/fees\\n-Application fee: £490\\n+Application fee: £524\\n\",\"summary\":\"Fee rises\"}}";

    internal static double Median(List<double> values) => Pct(values.Order().ToArray(), 0.5);

    private static double Pct(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double PeakRssMb()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:")) : null;
        return line is null
            ? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0
            : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}

/// <summary>The naive design: each delivery is its own Hangfire job making one signed POST.</summary>
public static class NaiveJob
{
    private static readonly HttpClient Client = new();

    public static void Nothing() { }

    public static async Task Deliver(string url, string payload, string secret)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        foreach (var (name, value) in WebhookSigner.Sign([secret], "evt_naive", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body).All())
            request.Headers.TryAddWithoutValidation(name, value);
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
