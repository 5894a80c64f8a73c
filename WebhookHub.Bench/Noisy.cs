using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.Bench;

/// <summary>
/// <c>noisy</c> mode (issue 15): healthy webhooks' ingest-to-receipt latency and retry timing, first alone,
/// then beside a black hole (accepts TCP, never answers) that is owed a backlog and gets a test press
/// every second, in one run of one app (its own process, default settings: 30 s timeout, 20 Hangfire
/// workers, 8 fan-out workers). Goal: healthy p99 with the black hole at most 2x the p99 without.
/// One healthy webhook fails the first attempt of every fourth delivery (503), so its 1 s retries are timed too.
/// </summary>
public static class Noisy
{
    // dotnet run -c Release --project WebhookHub.Bench -- noisy [--minutes 2] [--healthy 50] [--backlog 1000] [--rate 1]
    public static async Task RunAsync(string[] args)
    {
        var minutes = Option(args, "--minutes", 2.0);
        var healthy = (int)Option(args, "--healthy", 50);
        var backlog = (int)Option(args, "--backlog", 1000);
        var rate = Option(args, "--rate", 1.0);
        var root = Path.Combine(Path.GetTempPath(), "webhookhub-noisy-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(root);
        Console.WriteLine($"WebhookHub.Bench noisy: {healthy} healthy webhooks (1 flaky: 503 on every fourth first attempt), {rate} change/s, " +
                          $"{minutes} min per phase; black hole owed {backlog}; {Environment.ProcessorCount} cores, data in {root}");
        Console.WriteLine($"load at start: {Load()}");

        await using var receiver = await NoisyReceiver.StartAsync();
        // The bench is the only API client and reports the backlog quickly; the per-user API limit is not what is measured.
        await using var app = await AppProcess.StartAsync(Path.Combine(root, "app"), new Dictionary<string, string>
        {
            ["WebhookHub__Api__RequestsPerSecond"] = "5000",
            ["WebhookHub__Api__Burst"] = "5000",
        });
        using var api = app.ApiClient();
        api.Timeout = TimeSpan.FromSeconds(100);
        for (var i = 0; i < healthy - 1; i++) await CreateWebhookAsync(api, receiver.Url($"/ok/{i}"), "healthy");
        await CreateWebhookAsync(api, receiver.Url("/flaky"), "healthy");

        // Warm-up, not measured.
        for (var i = 0; i < 20; i++) await Report(api, "healthy");
        await Task.Delay(3000);

        var without = await MeasureAsync(api, receiver, healthy, rate, TimeSpan.FromMinutes(minutes));
        Print("without black hole", without);

        await using var hole = new BlackHole();
        var black = await CreateWebhookAsync(api, hole.Url(), route: null);
        var started = Stopwatch.StartNew();
        await Parallel.ForAsync(0, backlog, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await Report(api, $"backlog-{i % 50}"));
        // Owed means stored: measure once the backlog's deliveries exist (each change fanned out), not while it is still arriving.
        while (UnfannedChanges(Path.Combine(root, "app")) > 0) await Task.Delay(200);
        Console.WriteLine($"    backlog: {backlog} changes owed to the black hole reported and fanned out in {started.Elapsed.TotalSeconds:0.0} s");
        using var stop = new CancellationTokenSource();
        using var presser = app.ApiClient();
        presser.Timeout = TimeSpan.FromSeconds(60);
        var presses = new ConcurrentDictionary<HttpStatusCode, int>();
        var pressing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                _ = presser.PostAsync($"/api/webhooks/{black}/test", null, stop.Token)
                    .ContinueWith(t => { if (t.IsCompletedSuccessfully) presses.AddOrUpdate(t.Result.StatusCode, 1, (_, n) => n + 1); }, TaskScheduler.Default);
                try { await Task.Delay(1000, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var with = await MeasureAsync(api, receiver, healthy, rate, TimeSpan.FromMinutes(minutes));
        await stop.CancelAsync();
        await pressing;
        Print("with black hole", with);
        var circuit = (await api.GetFromJsonAsync<JsonElement>($"/api/webhooks/{black}")).GetProperty("circuit");
        Console.WriteLine($"    black hole: {hole.Connections} connections accepted in all, circuit {circuit.GetProperty("state").GetString()}; " +
                          $"test presses answered: {string.Join(", ", presses.Select(p => $"{(int)p.Key} x{p.Value}"))}");
        Console.WriteLine($"ratio: healthy p99 with/without = {with.P99 / Math.Max(1, without.P99):0.00} (goal <= 2), " +
                          $"p50 {with.P50 / Math.Max(1, without.P50):0.00}; retry p99 with/without = {with.RetryP99 / Math.Max(1, without.RetryP99):0.00}");
        Console.WriteLine($"load at end: {Load()}");
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    private sealed record Figures(int Samples, double P50, double P99, double Max, int Retries, double RetryP50, double RetryP99, double RetryMax, string Load);

    private static void Print(string phase, Figures f) =>
        Console.WriteLine($"[noisy] {phase}: {f.Samples} healthy deliveries, ingest-to-receipt p50 {f.P50:0} ms, p99 {f.P99:0} ms, max {f.Max:0} ms; " +
                          $"{f.Retries} retries (1 s scheduled) first-to-second attempt p50 {f.RetryP50:0} ms, p99 {f.RetryP99:0} ms, max {f.RetryMax:0} ms   [load {f.Load}]");

    private static async Task<Figures> MeasureAsync(HttpClient api, NoisyReceiver receiver, int healthy, double rate, TimeSpan duration)
    {
        var load = Load();
        receiver.Reset();
        var sentAt = new ConcurrentDictionary<Guid, long>();
        var count = (int)(duration.TotalSeconds * rate);
        var clock = Stopwatch.StartNew();
        var phaseStart = Stopwatch.GetTimestamp();
        var posts = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
            posts.Add(Task.Run(async () =>
            {
                var at = Stopwatch.GetTimestamp();
                sentAt[await Report(api, "healthy")] = at;
            }));
        }
        await Task.WhenAll(posts);
        await receiver.WaitForAsync(() => receiver.FirstAttempts(sentAt.Keys) >= count * healthy && receiver.SecondAttempts >= count / 4, TimeSpan.FromMinutes(3));
        var slowest = receiver.Receipts.Where(r => r.Attempt == 1 && sentAt.ContainsKey(r.Change)).GroupBy(r => r.Change)
            .Select(g => (Offset: Stopwatch.GetElapsedTime(phaseStart, sentAt[g.Key]).TotalSeconds, Ms: Stopwatch.GetElapsedTime(sentAt[g.Key], g.Max(r => r.At)).TotalMilliseconds))
            .OrderByDescending(c => c.Ms).Take(5);
        Console.WriteLine("    slowest changes (sent at +s: last receipt ms): " + string.Join(", ", slowest.Select(c => $"+{c.Offset:0}: {c.Ms:0}")));
        var latencies = receiver.Receipts.Where(r => r.Attempt == 1 && sentAt.ContainsKey(r.Change))
            .Select(r => Stopwatch.GetElapsedTime(sentAt[r.Change], r.At).TotalMilliseconds).Order().ToArray();
        var retries = receiver.Receipts.Where(r => r.Path == "/flaky" && sentAt.ContainsKey(r.Change)).GroupBy(r => r.Change)
            .Where(g => g.Count() >= 2)
            .Select(g => Stopwatch.GetElapsedTime(g.Min(r => r.At), g.OrderBy(r => r.At).Skip(1).First().At).TotalMilliseconds).Order().ToArray();
        return new Figures(latencies.Length, Pct(latencies, 0.5), Pct(latencies, 0.99), latencies[^1], retries.Length,
            Pct(retries, 0.5), Pct(retries, 0.99), retries.Length > 0 ? retries[^1] : 0, load);
    }

    private static async Task<Guid> CreateWebhookAsync(HttpClient api, string url, string? route)
    {
        var response = await api.PostAsJsonAsync("/api/webhooks", new { name = "noisy " + url, url, routes = route is null ? null : new[] { route } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid> Report(HttpClient api, string route)
    {
        var response = await api.PostAsJsonAsync("/api/policy-changes", new { route, source = "https://bench.example/" + route, diff = "--- a\n+++ b\n-old\n+new\n" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static long UnfannedChanges(string dataDirectory)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDirectory, "app.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT count(*) FROM policy_changes WHERE fanned_out_at IS NULL";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Option(string[] args, string name, double fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

/// <summary>Kestrel on 127.0.0.1: notes every request (path, change, attempt, when); 503 for the first attempt of each delivery to /flaky.</summary>
public sealed class NoisyReceiver : IAsyncDisposable
{
    public sealed record Receipt(string Path, Guid Change, int Attempt, long At);

    private static readonly byte[] IdMarker = Encoding.UTF8.GetBytes("\"policyChangeId\":\"");
    private readonly WebApplication _app;
    private ConcurrentQueue<Receipt> _receipts = new();
    private readonly ConcurrentDictionary<string, int> _seen = new();

    private NoisyReceiver(WebApplication app) => _app = app;

    public IReadOnlyCollection<Receipt> Receipts => _receipts;

    public int SecondAttempts => _receipts.Count(r => r.Attempt == 2);

    public int FirstAttempts(ICollection<Guid> changes) => _receipts.Count(r => r.Attempt == 1 && changes.Contains(r.Change));

    public string Url(string path) => _app.Urls.First() + path;

    public static async Task<NoisyReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NoisyReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public void Reset() => _receipts = new ConcurrentQueue<Receipt>();

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var now = Stopwatch.GetTimestamp();
        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var at = body.IndexOf(IdMarker);
        var change = at >= 0 && Guid.TryParse(Encoding.UTF8.GetString(body.Slice(at + IdMarker.Length, 36)), out var id) ? id : Guid.Empty;
        var attempt = int.TryParse(context.Request.Headers["X-Webhook-Attempt"], out var n) ? n : 0;
        var path = context.Request.Path.Value ?? "/";
        _receipts.Enqueue(new Receipt(path, change, attempt, now));
        // Every fourth delivery's first attempt fails: timed retries, never five failures in a row (that would open its circuit).
        context.Response.StatusCode = path == "/flaky" && attempt == 1
            && _seen.GetOrAdd(context.Request.Headers["X-Webhook-Delivery"].ToString(), _ => _seen.Count) % 4 == 0 ? 503 : 200;
    }

    public async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException("The healthy webhooks did not receive everything in time.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Accepts TCP on 127.0.0.1 and never answers: every request to it lasts the whole timeout.</summary>
public sealed class BlackHole : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    public BlackHole()
    {
        _listener.Start(backlog: 1024);
        _accepting = AcceptAsync();
    }

    public int Connections => Volatile.Read(ref _connections);

    public string Url() => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hole";

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _held.Add(await _listener.AcceptTcpClientAsync(_stop.Token));
                Interlocked.Increment(ref _connections);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _held) client.Dispose();
        await _accepting;
    }
}
