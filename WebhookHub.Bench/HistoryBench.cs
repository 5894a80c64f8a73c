using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Web.Features.Webhooks;
using static WebhookHub.Bench.BenchMain;

namespace WebhookHub.Bench;

/// <summary>
/// Do reads stay fast as history grows? A hub with 100 webhooks is filled to N attempts and then to
/// 10 × N, through the app's own write path (<see cref="RowWriter"/> rows and the <see cref="RollupWriter"/>
/// upsert in one transaction per batch, under the write gate, as DeliveryJob records; no HTTP, so a fill
/// of millions takes minutes), spread over the last 24 hours. At each size it times the reads a person
/// waits for (median of 5) and a real 10,000-delivery fan-out, against the same fan-out on the empty hub
/// at the start (the burst figure), and reports the rollup upsert's share of a fan-out's CPU.
/// </summary>
public static class HistoryBench
{
    private const int Webhooks = 100, FanoutChanges = 100, FillBatchChanges = 20;

    public static async Task RunAsync(string[] args)
    {
        var n = Arg(args, "--attempts", 250_000);
        var root = Path.Combine(Path.GetTempPath(), "webhookhub-history-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(root);
        Console.WriteLine($"WebhookHub.Bench history: N = {n:N0}, {Webhooks} webhooks, {Environment.ProcessorCount} cores, .NET {Environment.Version}, data in {root}");
        Console.WriteLine($"load at start: {Load()}");

        await using var receiver = await Receiver.StartAsync();
        using (var hub = new HubHost(Path.Combine(root, "hub")))
        {
            using var api = hub.Client();
            await hub.CreateWebhooksAsync(Webhooks, "bench-history", i => receiver.Url($"/h/{i}"));
            for (var round = 0; round < 4; round++) await FanOutAsync(hub, api, receiver, 20, quiet: true);   // warm-up: JIT, pools

            var burst = await FanOutAsync(hub, api, receiver, FanoutChanges);
            Console.WriteLine($"[burst] fan-out on the empty hub: {burst}");

            var filled = 0L;
            var results = new List<(long Size, Dictionary<string, double> Reads, FanOut FanOut)>();
            foreach (var size in new[] { (long)n, 10L * n })
            {
                var load = Load();
                var fill = Stopwatch.StartNew();
                filled = await FillAsync(hub, filled, size);
                Console.WriteLine($"[fill] {size:N0} attempts (+ deliveries, events, minute/hour/day rollups) in {fill.Elapsed.TotalSeconds:0} s total for this step " +
                                  $"({(size - (results.Count == 0 ? 0 : results[^1].Size)) / fill.Elapsed.TotalSeconds:N0} attempts/s)   [load {load}]");
                var reads = await ReadsAsync(hub, api);
                var fanOut = await FanOutAsync(hub, api, receiver, FanoutChanges);
                Console.WriteLine($"[{size:N0}] fan-out with this history: {fanOut}");
                Console.WriteLine($"[{size:N0}] app RSS {RssMb("VmRSS:"):0} MB (peak {RssMb("VmHWM:"):0} MB; bench process = app + receiver + client), " +
                                  $"GC heap {GC.GetTotalMemory(false) / 1048576.0:0} MB, app.db {DbSizeMb(hub):0} MB");
                results.Add((size, reads, fanOut));
            }

            var (small, large) = (results[0], results[1]);
            Console.WriteLine();
            Console.WriteLine($"summary (medians, ms): read | {small.Size:N0} | {large.Size:N0} | growth");
            foreach (var (name, ms) in large.Reads)
                Console.WriteLine($"  {name} | {small.Reads[name]:0.0} | {ms:0.0} | {ms / Math.Max(small.Reads[name], 0.1):0.00}x");
            Console.WriteLine($"  fan-out deliveries/s: burst {burst.PerSecond:0}, at {small.Size:N0} {small.FanOut.PerSecond:0} ({small.FanOut.PerSecond / burst.PerSecond:0.00}), " +
                              $"at {large.Size:N0} {large.FanOut.PerSecond:0} ({large.FanOut.PerSecond / burst.PerSecond:0.00} of the burst)");
            Console.WriteLine($"  rollup upsert share of fan-out CPU: burst {burst.RollupShare:P1}, at {small.Size:N0} {small.FanOut.RollupShare:P1}, at {large.Size:N0} {large.FanOut.RollupShare:P1}");
        }
        Console.WriteLine($"load at end: {Load()}");
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    private sealed record FanOut(double PerSecond, string Text, double RollupShare)
    {
        public override string ToString() => Text;
    }

    /// <summary>A real fan-out: <paramref name="changes"/> reports × 100 webhooks, signed POSTs to the receiver, first report to last receipt.</summary>
    private static async Task<FanOut> FanOutAsync(HubHost hub, HttpClient api, Receiver receiver, int changes, bool quiet = false)
    {
        receiver.Reset();
        var load = Load();
        var total = changes * Webhooks;
        var startedAt = DateTime.UtcNow;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var rollups = RollupWriter.Totals;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, changes, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) => await Report(api, "bench-history"));
        await receiver.WaitForCountAsync(total, TimeSpan.FromMinutes(5));
        var elapsed = Stopwatch.GetElapsedTime(started, receiver.LastReceiptTicks);
        // Rows are written just after the receipt; wait for them so the next step starts quiet, and count their rollup time.
        using (var scope = hub.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            while (await db.Attempts.CountAsync(a => a.CreatedAt >= startedAt) < total) await Task.Delay(100);
        }
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var rollupTime = RollupWriter.Totals.Cpu - rollups.Cpu;
        var perSecond = total / elapsed.TotalSeconds;
        if (quiet) return new FanOut(perSecond, "", 0);
        var share = rollupTime / cpuUsed;
        return new FanOut(perSecond, $"{total:N0} deliveries in {elapsed.TotalSeconds:0.00} s -> {perSecond:N0}/s; CPU {cpuUsed.TotalMilliseconds * 1000 / total:0} µs per delivery, " +
                                     $"of which the rollup upsert {rollupTime.TotalMilliseconds * 1000 / total:0} µs ({share:P1}; {RollupWriter.Totals.Rows - rollups.Rows:N0} upserts, minute + hour + day)   [load {load}]", share);
    }

    /// <summary>
    /// Synthetic history to <paramref name="target"/> attempts: batches of 20 "changes" × 100 webhooks, each an
    /// event, its deliveries (finished: success or failed with a job id, so nothing is owed) and one attempt
    /// each, with the batch's rollups, in one transaction through the write gate. Times run through the
    /// last 24 hours in order, so every minute of the dashboard's day has rows.
    /// </summary>
    private static async Task<long> FillAsync(HubHost hub, long filled, long target)
    {
        using var scope = hub.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        var rows = scope.ServiceProvider.GetRequiredService<RowWriter>();
        var rollups = scope.ServiceProvider.GetRequiredService<RollupWriter>();
        var gate = scope.ServiceProvider.GetRequiredService<IWriteGate>();
        var webhooks = await db.Webhooks.AsNoTracking().Select(w => w.Id).ToListAsync();
        var random = new Random((int)filled + 12);
        var end = DateTime.UtcNow.AddMinutes(-2);
        var start = end.AddHours(-24);
        var step = (end - start) / Math.Max(1, (target - filled) / webhooks.Count);
        var at = start;
        var lastReport = Stopwatch.StartNew();
        while (filled < target)
        {
            var events = new List<WebhookEvent>();
            var deliveries = new List<Core.Delivery.Delivery>();
            var attempts = new List<DeliveryAttempt>();
            for (var c = 0; c < FillBatchChanges && filled + attempts.Count < target; c++, at += step)
            {
                var evt = new WebhookEvent { Id = "evt_fill_" + Guid.CreateVersion7().ToString("n"), Type = EventTypes.PolicyChangeDetected, Payload = "{\"fill\":true}", CreatedAt = at };
                events.Add(evt);
                foreach (var webhook in webhooks)
                {
                    var roll = random.NextDouble();
                    var status = roll < 0.97 ? AttemptStatus.Success : roll < 0.99 ? AttemptStatus.Retrying : AttemptStatus.Failed;
                    var duration = (long)Math.Exp(2.5 + random.NextDouble() * 2 + (random.NextDouble() < 0.02 ? 4 : 0));
                    var when = at.AddMilliseconds(random.Next(2_000));
                    var delivery = new Core.Delivery.Delivery
                    {
                        Id = Guid.CreateVersion7(), WebhookId = webhook, EventId = evt.Id, EventType = evt.Type,
                        Status = status == AttemptStatus.Success ? DeliveryStatus.Success : DeliveryStatus.Failed, AttemptCount = 1,
                        LastAttemptAt = when, LastStatusCode = status == AttemptStatus.Success ? 200 : 503, HangfireJobId = "bench-fill",
                        CreatedAt = at, UpdatedAt = when,
                    };
                    deliveries.Add(delivery);
                    attempts.Add(new DeliveryAttempt
                    {
                        Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, WebhookId = webhook, EventId = evt.Id, EventType = evt.Type,
                        Status = status, StatusCode = delivery.LastStatusCode, ResponseBody = status == AttemptStatus.Success ? "ok" : "Service Unavailable",
                        AttemptNumber = 1, DeliveredAt = status == AttemptStatus.Success ? when : null, DurationMs = duration, CreatedAt = when,
                        ErrorMessage = status == AttemptStatus.Success ? null : "HTTP 503", HangfireJobId = "bench-fill",
                    });
                }
            }
            await gate.RunAsync(async () =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                await rows.InsertAsync(events, CancellationToken.None);
                await rows.InsertAsync(deliveries, CancellationToken.None);
                await rows.InsertAsync(attempts, CancellationToken.None);
                await rollups.AddAsync(Rollup.Of(attempts), CancellationToken.None);
                await transaction.CommitAsync();
            }, CancellationToken.None);
            filled += attempts.Count;
            if (lastReport.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.WriteLine($"    … {filled:N0} attempts   [load {Load()}]");
                lastReport.Restart();
            }
        }
        return filled;
    }

    /// <summary>
    /// Each read a person waits for, median of 5 after 20 unmeasured calls: a running app has long since
    /// compiled these paths with tiered JIT's optimizing tier (with one warm call, the first size's figures
    /// were up to 4x the second's on the same reads).
    /// </summary>
    private static async Task<Dictionary<string, double>> ReadsAsync(HubHost hub, HttpClient api)
    {
        var load = Load();
        var webhook = (await api.GetFromJsonAsync<JsonElement>("/api/webhooks"))[0].GetProperty("id").GetGuid();
        var middle = DateTime.UtcNow.AddHours(-12).ToString("O");
        var deepCursor = (await api.GetFromJsonAsync<JsonElement>($"/api/webhooks/{webhook}/deliveries?pageSize=50&to={Uri.EscapeDataString(middle)}"))
            .GetProperty("nextCursor").GetString();
        var reads = new (string Name, Func<Task> Read)[]
        {
            ("GET /api/monitoring/summary?window=24h", () => api.GetStringAsync("/api/monitoring/summary?window=24h")),
            ("/monitoring 24h load (rollups + latest)", () => InScope(hub, (db, s) => s.GetRequiredService<DeliveryStats>()
                .LoadAsync(db.Webhooks, TimeSpan.FromHours(24), DateTime.UtcNow, 15, CancellationToken.None))),
            ("webhooks list: GET /api/webhooks + the page's 24 h stats (25 rows)", async () =>
            {
                await api.GetStringAsync("/api/webhooks");
                await InScope(hub, async (db, _) => await WebhookRowStats.ForAsync(db, await db.Webhooks.OrderBy(w => w.Name).Take(25).ToListAsync(), DateTime.UtcNow, CancellationToken.None));
            }),
            ("history, first page (50)", () => api.GetStringAsync($"/api/webhooks/{webhook}/deliveries?pageSize=50")),
            ("history, deep page by cursor (12 h back)", () => api.GetStringAsync($"/api/webhooks/{webhook}/deliveries?pageSize=50&cursor={deepCursor}")),
            ("history, failed only, first page", () => api.GetStringAsync($"/api/webhooks/{webhook}/deliveries?pageSize=50&status=failed")),
            ("history, page 100 by number (UI pager)", () => api.GetStringAsync($"/api/webhooks/{webhook}/deliveries?pageSize=50&page=100")),
            ("/deliveries (all webhooks), first page", () => InScope(hub, (db, s) => s.GetRequiredService<DeliveryHistory>()
                .PageAsync(db.Webhooks, null, new AttemptFilter(), null, 0, 25, CancellationToken.None))),
        };
        var medians = new Dictionary<string, double>();
        foreach (var (name, read) in reads)
        {
            for (var i = 0; i < 20; i++) await read();
            var times = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await read();
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
            medians[name] = Median(times);
            Console.WriteLine($"    {name}: median {medians[name]:0.0} ms (min {times.Min():0.0}, max {times.Max():0.0})");
        }
        Console.WriteLine($"    [reads measured at load {load}]");
        return medians;
    }

    private static async Task InScope<T>(HubHost hub, Func<WebhookHubDbContext, IServiceProvider, Task<T>> read)
    {
        using var scope = hub.Services.CreateScope();
        await read(scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>(), scope.ServiceProvider);
    }

    private static double DbSizeMb(HubHost hub) =>
        Directory.GetFiles(hub.DataDirectory, "app.db*").Sum(f => new FileInfo(f).Length) / 1048576.0;

    private static double RssMb(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
    }
}
