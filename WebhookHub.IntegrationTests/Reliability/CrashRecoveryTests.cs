using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>
/// SIGKILL the app while deliveries are in flight, start it again on the same data directory: every
/// event reaches every receiver at least once, nothing stays stuck, and recovery takes seconds (not
/// Hangfire's 30-minute invisibility timeout). Receivers deduplicate on webhook-id, so a duplicate is
/// allowed; a loss, or one change sent under two event ids, is not.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "webhookhub-crash", Guid.NewGuid().ToString("n"));
    private TestReceiver _receiver = null!;
    // Held shut while the changes are posted, so that the whole load is in flight when the process dies.
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _answered;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["WebhookHub__Delivery__RetryDelaysSeconds__0"] = "1",
        ["WebhookHub__Delivery__RetryDelaysSeconds__1"] = "1",
        ["WebhookHub__Delivery__RetryDelaysSeconds__2"] = "2",
        ["WebhookHub__Delivery__RetryDelaysSeconds__3"] = "2",
        ["WebhookHub__Delivery__RetryDelaysSeconds__4"] = "2",
        ["WebhookHub__Delivery__TimeoutSeconds"] = "10",
        ["WebhookHub__Api__RequestsPerSecond"] = "10000",
        ["WebhookHub__Api__Burst"] = "10000",
    };

    public async Task InitializeAsync()
    {
        _receiver = await TestReceiver.StartAsync();
        // Slow enough that thousands of deliveries are in flight when the process dies.
        _receiver.RespondAsync(async (_, _) =>
        {
            await _open.Task;
            await Task.Delay(Random.Shared.Next(200, 500));
            Interlocked.Increment(ref _answered);
            return Results.Ok();
        });
    }

    [Fact]
    public Task Killed_with_thousands_of_deliveries_in_flight_every_event_arrives_after_restart() =>
        KillAndRecoverAsync(webhooks: 20, changes: 100, pathPrefix: "/crash-", answeredBeforeKill: 100);

    [Fact]
    public Task Killed_during_a_fan_out_to_many_webhooks_every_event_arrives_after_restart() =>
        KillAndRecoverAsync(webhooks: 200, changes: 10, pathPrefix: "/fan-", answeredBeforeKill: 50);

    /// <summary>Starts the app, sends the changes, SIGKILLs it once some answers are in, and checks the restart delivers the rest.</summary>
    private async Task KillAndRecoverAsync(int webhooks, int changes, string pathPrefix, int answeredBeforeKill)
    {
        var paths = Enumerable.Range(0, webhooks).Select(i => pathPrefix + i).ToList();
        var changeIds = new List<Guid>();

        var started = Stopwatch.StartNew();
        await using (var first = await AppProcess.StartAsync(_data, TestDatabase.PrepareProcess(_data, Settings)))
        {
            output.WriteLine($"First start healthy after {started.Elapsed.TotalSeconds:0.0} s.");
            using var api = first.ApiClient();
            foreach (var path in paths) await Hub.CreateWebhookAsync(api, _receiver.Url(path));
            for (var i = 0; i < changes; i++) changeIds.Add(await Hub.PostChangeAsync(api));
            _open.SetResult();
            await Eventually.True(() => Volatile.Read(ref _answered) >= answeredBeforeKill, $"{answeredBeforeKill} answers before the kill",
                TimeSpan.FromSeconds(60), () => $"{_answered} answered");
            first.Kill();
        }

        await AssertRecoveredAsync(changeIds, paths, minimumOutstanding: 800);
    }

    private async Task AssertRecoveredAsync(List<Guid> changeIds, List<string> paths, int minimumOutstanding)
    {
        var expected = changeIds.SelectMany(c => paths.Select(p => (Change: c.ToString(), Path: p))).ToHashSet();
        int Arrived() => _receiver.Requests.Select(r => (Hub.ChangeIdOf(r), r.Path)).Distinct().Count(expected.Contains);
        var receivedBeforeKill = _receiver.Requests.Count;
        var outstanding = expected.Count - Arrived();
        output.WriteLine($"Killed with {outstanding} of {expected.Count} deliveries not yet received ({receivedBeforeKill} requests seen).");
        Assert.True(outstanding >= minimumOutstanding, $"Only {outstanding} deliveries were outstanding at the kill; the test did not crash mid-flight.");

        var restarted = Stopwatch.StartNew();
        await using var second = await AppProcess.StartAsync(_data, TestDatabase.PrepareProcess(_data, Settings));
        var healthyAfter = restarted.Elapsed;
        await Eventually.True(() => Arrived() == expected.Count, "every delivery arrived after the restart", TimeSpan.FromSeconds(120),
            () => $"{Arrived()} of {expected.Count} deliveries arrived.\n{string.Join('\n', second.Output.TakeLast(30))}");
        var allArrived = restarted.Elapsed;
        await Eventually.True(
            () => Hub.Scalar(_data, "SELECT count(*) FROM deliveries WHERE status <> 'success'") == 0
                && Hub.Scalar(_data, "SELECT count(*) FROM deliveries") == expected.Count
                && Hub.Scalar(_data, "SELECT count(*) FROM policy_changes WHERE fanned_out_at IS NULL") == 0,
            "every delivery recorded as successful", TimeSpan.FromSeconds(60),
            () => $"{Hub.Scalar(_data, "SELECT count(*) FROM deliveries WHERE status <> 'success'")} deliveries not successful, "
                + $"{Hub.Scalar(_data, "SELECT count(*) FROM deliveries")} deliveries for {expected.Count} expected.");

        var requests = _receiver.Requests;
        // One event per change: receivers can only deduplicate if a re-run fan-out reuses the event id.
        var idsPerChange = requests.GroupBy(Hub.ChangeIdOf).Select(g => g.Select(r => r.Header("webhook-id")).Distinct().Count());
        Assert.All(idsPerChange, n => Assert.Equal(1, n));
        var duplicates = requests.Count - requests.Select(r => (r.Header("webhook-id"), r.Path)).Distinct().Count();
        output.WriteLine($"Restarted: healthy after {healthyAfter.TotalSeconds:0.0} s, all {expected.Count} delivered after "
            + $"{allArrived.TotalSeconds:0.0} s; {duplicates} duplicates (same webhook-id and path) of {requests.Count} requests.");
        Assert.True(allArrived < TimeSpan.FromSeconds(90), $"Recovery took {allArrived.TotalSeconds:0} s");
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); }
        catch (IOException) { }
        await TestDatabase.DropAsync(_data);
    }
}
