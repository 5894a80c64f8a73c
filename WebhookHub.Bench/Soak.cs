using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.Bench;

/// <summary>
/// <c>soak</c> mode: mixed load on the real app for a while, with one receiver in ten failing, and an
/// account at the end of what arrived. Policy changes fan out to 20 webhooks, two of them flaky
/// (a 503 for three requests in ten); the API is read meanwhile (history, dead letters, monitoring)
/// and a test event is sent now and then. After the load stops, whatever was dead-lettered is retried
/// in bulk, as an operator would, and the run waits for the pipeline to drain. Lost must be 0.
/// The app runs as its own process (the built WebhookHub.Web.dll, as an operator starts it), so its
/// memory is measured alone: the soak's own bookkeeping of every receipt grows with the run.
/// </summary>
public static class Soak
{
    private const int Healthy = 18, Flaky = 2;

    // dotnet run -c Release --project WebhookHub.Bench -- soak [--minutes 10] [--rate 5]
    public static async Task RunAsync(string[] args)
    {
        var minutes = Option(args, "--minutes", 10.0);
        var rate = Option(args, "--rate", 5.0);
        var root = Path.Combine(Path.GetTempPath(), "webhookhub-soak-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(root);
        Console.WriteLine($"WebhookHub.Bench soak: {minutes} min, {rate} policy changes/s to {Healthy + Flaky} webhooks " +
                          $"({Flaky} flaky: 30% 503), {Environment.ProcessorCount} cores, data in {root}");

        await using var receiver = await SoakReceiver.StartAsync();
        await using var app = await AppProcess.StartAsync(Path.Combine(root, "app"));
        using var api = app.ApiClient();
        var webhookIds = new List<Guid>();
        for (var i = 0; i < Healthy; i++) webhookIds.Add(await CreateWebhookAsync(api, receiver.Url($"/ok/{i}")));
        for (var i = 0; i < Flaky; i++) webhookIds.Add(await CreateWebhookAsync(api, receiver.Url($"/flaky/{i}")));
        var memory = new AppMemory(app.ProcessId, api);

        // Warm-up (JIT, pools, caches), then the baseline RSS.
        for (var i = 0; i < 20; i++) await Report(api);
        await Task.Delay(3000);
        receiver.Reset();
        var rssStart = memory.RssMb();
        Console.WriteLine($"app process {app.ProcessId}: the app's own runtime settings (WebhookHub.Web.runtimeconfig.json), " +
                          $"MALLOC_ARENA_MAX={Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "unset (glibc default: 8 per core)"}");
        Console.WriteLine($"app RSS at start (after warm-up): {rssStart:0} MB ({await memory.DescribeAsync()})");

        var posted = new ConcurrentDictionary<Guid, long>();
        var apiErrors = 0;
        var apiCalls = 0;
        var clock = Stopwatch.StartNew();
        var duration = TimeSpan.FromMinutes(minutes);
        using var stop = new CancellationTokenSource(duration);

        var ingest = Task.Run(async () =>
        {
            var posts = new List<Task>();
            for (long n = 0; !stop.IsCancellationRequested; n++)
            {
                var due = TimeSpan.FromSeconds(n / rate);
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
                if (stop.IsCancellationRequested) break;
                posts.Add(Task.Run(async () =>
                {
                    var at = Stopwatch.GetTimestamp();
                    try { posted[await Report(api)] = at; }
                    catch (Exception) { Interlocked.Increment(ref apiErrors); }
                }));
                posts.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(posts);
        });
        var reads = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var webhook = webhookIds[n % webhookIds.Count];
                var path = (n % 4) switch
                {
                    0 => $"/api/webhooks/{webhook}/deliveries?pageSize=50",
                    1 => "/api/dead-letters",
                    2 => "/api/monitoring/summary",
                    _ => "/api/policy-changes?pageSize=20",
                };
                Interlocked.Increment(ref apiCalls);
                try
                {
                    using var response = await api.GetAsync(path);
                    if ((int)response.StatusCode >= 500) Interlocked.Increment(ref apiErrors);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref apiErrors); }
                if (n % 50 == 0)
                {
                    using var test = await api.PostAsync($"/api/webhooks/{webhook}/test", null);
                    if ((int)test.StatusCode >= 500) Interlocked.Increment(ref apiErrors);
                }
                await Task.Delay(200);
            }
        });
        // The first minute of load still grows the process (tiered JIT, connection and thread pools); growth
        // is judged from there to the end.
        var rssWarm = double.NaN;
        var samples = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try { await Task.Delay(TimeSpan.FromMinutes(1), stop.Token); }
                catch (OperationCanceledException) { break; }
                if (double.IsNaN(rssWarm)) rssWarm = memory.RssMb();
                Console.WriteLine($"  {clock.Elapsed.TotalMinutes:0} min: {posted.Count} changes posted, {receiver.Delivered} delivered, " +
                                  $"app RSS {memory.RssMb():0} MB ({await memory.DescribeAsync()}), load {Load()}");
            }
        });
        await Task.WhenAll(ingest, reads, samples);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        var expected = posted.Count * (Healthy + Flaky);
        Console.WriteLine($"Load stopped after {loadSeconds:0} s: {posted.Count} changes posted, {expected} deliveries owed.");

        var rssLoaded = memory.RssMb();
        var describedLoaded = await memory.DescribeAsync();
        var paths = Enumerable.Range(0, Healthy).Select(i => $"/ok/{i}").Concat(Enumerable.Range(0, Flaky).Select(i => $"/flaky/{i}")).ToList();
        var expectedPairs = posted.Keys.SelectMany(c => paths.Select(p => (c, p))).ToHashSet();
        int Arrived() => expectedPairs.Count(receiver.FirstOk.ContainsKey);

        // Drain: let retries finish, then retry what was dead-lettered, as an operator would. Counted against
        // the owed (change, webhook) pairs only: warm-up stragglers must not end the wait early.
        var deadLettered = 0;
        var bulkRetried = false;
        var drain = Stopwatch.StartNew();
        while (Arrived() < expectedPairs.Count && drain.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(1000);
            // Retries of the last changes take up to 31 s; after that, what is left is in the dead-letter queue.
            if (!bulkRetried && drain.Elapsed > TimeSpan.FromSeconds(45))
            {
                bulkRetried = true;
                foreach (var id in webhookIds)
                {
                    var response = await api.PostAsJsonAsync("/api/dead-letters/retry", new { webhookId = id });
                    deadLettered += (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("retried").GetArrayLength();
                }
                Console.WriteLine($"Bulk-retried {deadLettered} dead letters.");
            }
        }
        Console.WriteLine($"Drained in {drain.Elapsed.TotalSeconds:0} s.");

        var delivered = receiver.FirstOk.Keys.Count(expectedPairs.Contains);
        var lost = expectedPairs.Count - delivered;
        var duplicated = receiver.Duplicates;
        double[] Latencies(string prefix) => receiver.FirstOk
            .Where(p => p.Key.Path.StartsWith(prefix, StringComparison.Ordinal) && posted.ContainsKey(p.Key.Change))
            .Select(p => Stopwatch.GetElapsedTime(posted[p.Key.Change], p.Value).TotalMilliseconds).Order().ToArray();
        var healthy = Latencies("/ok/");
        var flaky = Latencies("/flaky/");

        Console.WriteLine();
        Console.WriteLine($"soak result ({minutes} min, {rate} changes/s, {Healthy + Flaky} webhooks of which {Flaky} flaky):");
        Console.WriteLine($"  policy changes {posted.Count}, deliveries owed {expectedPairs.Count}");
        Console.WriteLine($"  delivered {delivered}, lost {lost}, duplicated {duplicated} (2xx answers beyond the first per event and webhook)");
        Console.WriteLine($"  requests received {receiver.Requests}, of which 503 {receiver.Refused}; dead-lettered then bulk-retried {deadLettered}");
        Console.WriteLine($"  ingest-to-receipt, healthy receivers: p50 {Pct(healthy, 0.5):0} ms, p99 {Pct(healthy, 0.99):0} ms, max {Pct(healthy, 1):0} ms");
        Console.WriteLine($"  ingest-to-receipt, flaky receivers (retries included): p50 {Pct(flaky, 0.5):0} ms, p99 {Pct(flaky, 0.99):0} ms");
        Console.WriteLine($"  API: {apiCalls} reads + test sends, {apiErrors} errors (5xx or failed)");
        Console.WriteLine($"  app RSS: start {rssStart:0} MB, after the first minute {rssWarm:0} MB, end of load {rssLoaded:0} MB " +
                          $"(growth after the first minute: {rssLoaded - rssWarm:+0;-0} MB); at the end {describedLoaded}");
    }

    private static async Task<Guid> CreateWebhookAsync(HttpClient api, string url)
    {
        var response = await api.PostAsJsonAsync("/api/webhooks", new { name = "soak " + url, url, routes = new[] { "soak" } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid> Report(HttpClient api)
    {
        var response = await api.PostAsJsonAsync("/api/policy-changes", new
        {
            route = "soak", source = "https://example.gov/soak", diff = "--- a\n+++ b\n-old rule\n+new rule\n", summary = "soak",
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && double.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

/// <summary>
/// The soak's receivers on one Kestrel port: <c>/ok/…</c> always take a delivery, <c>/flaky/…</c> answer
/// 503 three times in ten. Keeps the first 2xx per (policy change, path) and counts any later one as a duplicate.
/// </summary>
public sealed class SoakReceiver : IAsyncDisposable
{
    private static readonly byte[] IdMarker = Encoding.UTF8.GetBytes("\"policyChangeId\":\"");
    private readonly WebApplication _app;
    private long _requests, _refused, _duplicates;

    private SoakReceiver(WebApplication app) => _app = app;

    public ConcurrentDictionary<(Guid Change, string Path), long> FirstOk { get; } = new();
    public long Requests => Interlocked.Read(ref _requests);
    public long Refused => Interlocked.Read(ref _refused);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Delivered => FirstOk.Count;

    public string Url(string path) => _app.Urls.First() + path;

    public static async Task<SoakReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new SoakReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public void Reset()
    {
        FirstOk.Clear();
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _refused, 0);
        Interlocked.Exchange(ref _duplicates, 0);
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _requests);
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/flaky/", StringComparison.Ordinal) && Random.Shared.Next(10) < 3)
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = 503;
            return;
        }
        context.Response.StatusCode = 200;
        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var at = body.IndexOf(IdMarker);
        if (at < 0 || !Guid.TryParse(Encoding.UTF8.GetString(body.Slice(at + IdMarker.Length, 36)), out var change)) return;
        if (!FirstOk.TryAdd((change, path), now)) Interlocked.Increment(ref _duplicates);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
