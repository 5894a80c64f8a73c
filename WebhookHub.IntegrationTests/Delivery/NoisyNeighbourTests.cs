using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Delivery;

/// <summary>
/// One bad endpoint must not slow anyone else. A black hole (accepts, never answers) with a backlog of 200
/// owed deliveries and a test press every second, beside healthy webhooks receiving two changes a second,
/// one of which fails each first attempt once so its retries can be timed. Real settings: 30 s timeout,
/// 1-2-4-8-16 s schedule. The bound (p99 ≤ 1 s over 2 minutes, 50 webhooks) is measured by
/// <c>WebhookHub.Bench noisy</c>; this is the short proof for the suite, with room for a loaded CI machine.
/// </summary>
public sealed class NoisyNeighbourTests
{
    private const int Healthy = 10;
    private const int Changes = 30;

    [Fact]
    public async Task A_black_hole_with_a_backlog_and_test_presses_does_not_hold_up_healthy_deliveries_or_their_retries()
    {
        await using var app = new WebhookHubApp();
        await using var hole = new BlackHole();
        await using var receiver = await TestReceiver.StartAsync();
        // The flaky one fails the first attempt of every fourth delivery: its retries are timed, and it never
        // fails five times in a row (which would rightly open its circuit and park it).
        var seen = new ConcurrentDictionary<string, int>();
        receiver.Respond((_, r) => r.Path == "/flaky" && r.Header("x-webhook-attempt") == "1"
            && seen.GetOrAdd(r.Header("x-webhook-delivery"), _ => seen.Count) % 4 == 0
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : Results.Ok());
        const string route = "noisy-shared";
        for (var i = 0; i < Healthy - 1; i++) await CreateAsync(app, receiver.Url($"/healthy/{i}"), route);
        await CreateAsync(app, receiver.Url("/flaky"), route);
        // No route filter: the black hole gets every change, its backlog and the healthy ones' too.
        var black = await CreateAsync(app, hole.Url(), routes: []);
        using var admin = app.ApiClient();

        await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await ReportChangeAsync(admin, $"backlog-{i % 20}"));
        // Owed means stored: the healthy traffic starts once the backlog's deliveries exist (each change fanned out).
        await EventuallyAsync(() => Task.FromResult(
            Reliability.Hub.Scalar(app.DataDirectory, "SELECT count(*) FROM policy_changes WHERE fanned_out_at IS NULL") == 0), "backlog fanned out");

        using var stop = new CancellationTokenSource();
        using var presser = app.ApiClient();
        presser.Timeout = TimeSpan.FromSeconds(60);
        var pressing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Not awaited: a test to a black hole answers only after the 30 s timeout (or 429 once over quota).
                _ = presser.PostAsync($"/api/webhooks/{black.Id}/test", null, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                try { await Task.Delay(1000, stop.Token); } catch (OperationCanceledException) { }
            }
        });

        var sentAt = new ConcurrentDictionary<string, DateTimeOffset>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < Changes; i++)
        {
            var due = TimeSpan.FromMilliseconds(500 * i);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
            var at = DateTimeOffset.UtcNow;
            sentAt[(await ReportChangeAsync(admin, route)).ToString()] = at;
        }
        // Every healthy webhook gets every change; the flaky one a retry for every fourth.
        await receiver.WaitForAsync(r => r.Count(x => x.Header("x-webhook-attempt") == "1" && sentAt.ContainsKey(Reliability.Hub.ChangeIdOf(x))) >= Changes * Healthy
            && r.Count(x => x.Path == "/flaky" && x.Header("x-webhook-attempt") == "2") >= Changes / 4, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await pressing;

        var latencies = receiver.Requests
            .Where(r => r.Header("x-webhook-attempt") == "1" && sentAt.ContainsKey(Reliability.Hub.ChangeIdOf(r)))
            .Select(r => (r.At - sentAt[Reliability.Hub.ChangeIdOf(r)]).TotalMilliseconds)
            .Order().ToArray();
        Assert.Equal(Changes * Healthy, latencies.Length);
        var p99 = latencies[(int)Math.Ceiling(0.99 * latencies.Length) - 1];
        var retryGaps = receiver.RequestsTo("/flaky").GroupBy(r => r.Header("x-webhook-delivery"))
            .Select(g => g.OrderBy(r => r.At).ToList()).Where(g => g.Count >= 2)
            .Select(g => (g[1].At - g[0].At).TotalMilliseconds).Order().ToArray();
        var byChange = receiver.Requests.Where(r => r.Header("x-webhook-attempt") == "1" && sentAt.ContainsKey(Reliability.Hub.ChangeIdOf(r)))
            .GroupBy(r => Reliability.Hub.ChangeIdOf(r)).OrderBy(g => sentAt[g.Key])
            .Select(g => (g.Max(r => r.At) - sentAt[g.Key]).TotalMilliseconds.ToString("0"));
        Console.WriteLine("noisy neighbour, slowest receipt per change in order: " + string.Join(" ", byChange));
        Console.WriteLine($"noisy neighbour: healthy p50 {latencies[latencies.Length / 2]:0} ms, p99 {p99:0} ms, max {latencies[^1]:0} ms; " +
                          $"retry gaps (1 s scheduled) {retryGaps[0]:0}-{retryGaps[^1]:0} ms; black hole connections {hole.Connections}");

        // Before lanes, the healthy webhooks received nothing for a minute. The strict 1 s bound is the bench's
        // (2 minutes, 50 webhooks); here 2 s leaves room for a CI machine shared with other builds (seen: 20-110 ms
        // at a load average of 17 on 2 cores).
        Assert.True(p99 <= 2000, $"healthy p99 {p99:0} ms");
        Assert.True(retryGaps[^1] <= 2500, $"a 1 s retry came after {retryGaps[^1]:0} ms");
        // The backlog waited in its lane (8 in flight), plus the test presses the quota let through and any probes.
        Assert.True(hole.Connections < 40, $"{hole.Connections} connections to the black hole (230 deliveries owed to it)");
    }
}
