using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Delivery;

/// <summary>
/// The circuit breaker and the redrive against a real receiver: open after N failures, nothing sent while
/// open but the probes, close on a probe that answers, then every dead letter and parked delivery redelivered
/// at a slow start whose ramp shows in the receiver's timestamps; and a 429 with Retry-After pausing the endpoint.
/// </summary>
public sealed class CircuitBreakerTests(CircuitBreakerTests.AppFixture fixture) : IClassFixture<CircuitBreakerTests.AppFixture>
{
    // One retry a second and a 20-failure threshold: ten changes dead-letter (two attempts each) before the
    // circuit opens on the twentieth failure. Cool-downs of 2 s keep the probes few and the test short.
    public sealed class AppFixture() : Infrastructure.AppFixture(new Dictionary<string, string?>
    {
        ["WebhookHub:Delivery:RetryDelaysSeconds:0"] = "1",
        ["WebhookHub:Delivery:TimeoutSeconds"] = "2",
        ["WebhookHub:Delivery:Endpoints:Breaker:FailuresToOpen"] = "20",
        ["WebhookHub:Delivery:Endpoints:Breaker:FirstCooldownSeconds"] = "2",
        ["WebhookHub:Delivery:Endpoints:Breaker:MaxCooldownSeconds"] = "2",
        ["WebhookHub:Delivery:Endpoints:Redrive:InitialPerSecond"] = "2",
    });

    private WebhookHubApp App => fixture.App;

    [Fact]
    public async Task Opens_after_N_failures_sends_only_probes_while_open_then_closes_and_redrives_everything_at_a_slow_start()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var up = false;
        receiver.Respond((_, _) => Volatile.Read(ref up) ? Results.Ok() : Results.StatusCode(500));
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();

        for (var i = 0; i < 10; i++) await ReportChangeAsync(admin, hook.Route);
        var open = await WaitForCircuitAsync(admin, hook.Id, "open");
        Assert.True(open.GetProperty("nextProbeAt").GetDateTime() > DateTime.UtcNow.AddSeconds(-3));
        // Probes then turn dead letters back into retrying ones, so count attempts rather than statuses.
        await EventuallyAsync(async () => (await DeliveriesAsync(App, hook.Id)) is { Count: 10 } all && all.All(d => d.AttemptCount >= 2),
            "all ten dead-lettered (two attempts each)");

        // While open: five more changes. Without the breaker that is five first attempts and five retries
        // within ~2 s; with it, at most one probe per 2 s cool-down reaches the receiver.
        var before = receiver.Requests.Count;
        for (var i = 0; i < 5; i++) await ReportChangeAsync(admin, hook.Route);
        await Task.Delay(3000);
        var duringOpen = receiver.Requests.Count - before;
        Assert.InRange(duringOpen, 0, 3);
        var parked = (await DeliveriesAsync(App, hook.Id)).Where(d => d.Status == DeliveryStatus.Retrying).ToList();
        Assert.True(parked.Count(d => d.AttemptCount == 0) >= 3, $"new deliveries are parked, not sent ({parked.Count} retrying)");

        DateTimeOffset? closedAt = null;
        App.Services.GetRequiredService<DeliveryNotifier>().CircuitChanged += c =>
        {
            if (c.WebhookId == hook.Id && c.State == CircuitState.Closed) closedAt ??= DateTimeOffset.UtcNow;
        };
        Volatile.Write(ref up, true);
        await EventuallyAsync(async () => (await DeliveriesAsync(App, hook.Id)).All(d => d.Status == DeliveryStatus.Success),
            "every dead letter and parked delivery delivered after the circuit closed", TimeSpan.FromSeconds(45));
        await WaitForCircuitAsync(admin, hook.Id, "closed");

        var attempts = await AttemptsAsync(App, hook.Id);
        var redriven = attempts.Where(a => a.Trigger == AttemptTrigger.Redrive && a.Status == AttemptStatus.Success).ToList();
        Assert.True(redriven.Count >= 13, $"{redriven.Count} redrive attempts");
        // The ramp, in the receiver's own timestamps after the probe that closed the circuit: 2 in the first
        // second, 4 in the next, then 8 (fourteen at once without the slow start). Each second's burst starts a
        // second after the previous one's; half a second leaves room for a burst that took long to go out.
        Assert.NotNull(closedAt);
        var after = receiver.Requests.Where(r => r.At >= closedAt).Select(r => r.At).Order().ToList();
        Assert.True(after.Count >= 13, $"{after.Count} requests after the close");
        var offsets = string.Join(" ", after.Select(t => (t - after[0]).TotalMilliseconds.ToString("0")));
        Assert.True(after[2] - after[0] >= TimeSpan.FromSeconds(0.5), "the third waited for the second second: " + offsets);
        Assert.True(after[6] - after[2] >= TimeSpan.FromSeconds(0.5), "the seventh waited for the third second: " + offsets);

        // Every delivery can be delivered before the redrive ends: one its lane held back goes again a second
        // later, by which time its own parked job may have delivered it (then the redrive skips it and ends).
        var redrive = default(JsonElement);
        await EventuallyAsync(async () =>
        {
            redrive = (await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{hook.Id}")).GetProperty("redrive");
            return redrive.GetProperty("finished").GetBoolean();
        }, "the redrive finished", TimeSpan.FromSeconds(10));
        Assert.Equal(redrive.GetProperty("total").GetInt32(), redrive.GetProperty("done").GetInt32());
        // And it did speed up: every answer was a quick 2xx, so the pace doubled each second (2 → 4 → 8 …).
        Assert.True(redrive.GetProperty("perSecond").GetDouble() >= 8, redrive.GetRawText());
    }

    [Fact]
    public async Task A_429_with_Retry_After_pauses_the_whole_endpoint_not_just_that_delivery()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((n, _) => n == 1
            ? new RetryAfter429(3)
            : Results.Ok());
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();

        await ReportChangeAsync(admin, hook.Route);
        await receiver.WaitForCountAsync(1);
        var paused = await WaitForCircuitAsync(admin, hook.Id, "open");
        Assert.Contains("Retry-After", paused.GetProperty("reason").GetString());
        await ReportChangeAsync(admin, hook.Route);

        var requests = await receiver.WaitForCountAsync(3, TimeSpan.FromSeconds(30));
        // The second change was not sent during the pause either; both went after it (less Hangfire's half-second rounding).
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(2.4), $"second request after {requests[1].At - requests[0].At}");
        await EventuallyAsync(async () => (await DeliveriesAsync(App, hook.Id)).All(d => d.Status == DeliveryStatus.Success), "both delivered");
    }

    [Fact]
    public async Task MaxPerSecond_spaces_a_burst_of_changes_out()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var admin = App.ApiClient();
        var route = "paced-" + Guid.NewGuid().ToString("n")[..8];
        var created = await admin.PostAsJsonAsync("/api/webhooks",
            new { name = "paced", url = receiver.Url("/paced"), routes = new[] { route }, maxPerSecond = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(2, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("maxPerSecond").GetInt32());

        for (var i = 0; i < 8; i++) await ReportChangeAsync(admin, route);
        var requests = await receiver.WaitForCountAsync(8, TimeSpan.FromSeconds(30));

        // Two at once (a second's worth), then one every half second: at least 3 s for eight. Never more than
        // three inside any one second (Hangfire rounds a scheduled retry to the half second).
        var times = requests.Select(r => r.At).Order().ToList();
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(2.5), $"eight deliveries in {times[^1] - times[0]}");
        Assert.All(times, t => Assert.InRange(times.Count(u => u >= t && u < t + TimeSpan.FromSeconds(1)), 1, 3));
    }

    private static async Task<JsonElement> WaitForCircuitAsync(HttpClient api, Guid id, string state)
    {
        JsonElement circuit = default;
        await EventuallyAsync(async () =>
        {
            circuit = (await api.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}")).GetProperty("circuit");
            return circuit.GetProperty("state").GetString() == state;
        }, $"circuit {state}");
        return circuit;
    }

    private sealed class RetryAfter429(int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }
    }
}
