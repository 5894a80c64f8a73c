using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Delivery;

/// <summary>
/// Receivers that are down or slow. A short schedule (five 1 s retries) and a 1 s request timeout
/// keep these tests fast; the real schedule's timing is tested in <see cref="DeliveryPipelineTests"/>.
/// </summary>
public sealed class FailingReceiverTests(FailingReceiverTests.AppFixture fixture) : IClassFixture<FailingReceiverTests.AppFixture>
{
    public sealed class AppFixture() : Infrastructure.AppFixture(new Dictionary<string, string?>
    {
        ["WebhookHub:Delivery:RetryDelaysSeconds:0"] = "1",
        ["WebhookHub:Delivery:RetryDelaysSeconds:1"] = "1",
        ["WebhookHub:Delivery:RetryDelaysSeconds:2"] = "1",
        ["WebhookHub:Delivery:RetryDelaysSeconds:3"] = "1",
        ["WebhookHub:Delivery:RetryDelaysSeconds:4"] = "1",
        ["WebhookHub:Delivery:TimeoutSeconds"] = "1",
    });

    private WebhookHubApp App => fixture.App;

    [Fact]
    public void The_configured_schedule_replaces_the_default_instead_of_adding_to_it()
    {
        var delivery = App.Services.GetRequiredService<IOptions<WebhookHubOptions>>().Value.Delivery;
        Assert.Equal([1, 1, 1, 1, 1], delivery.RetrySchedule);
        Assert.Equal(6, App.Services.GetRequiredService<RetryPolicy>().AttemptsPerBudget);
    }

    [Fact]
    public async Task Connection_refused_is_tried_six_times_then_dead_lettered()
    {
        var hook = await CreateAsync(App, $"http://127.0.0.1:{UnusedPort()}/hook");
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        // Its dead-letter job's id is saved just after the failed state (the last attempt may be the breaker's
        // probe, whose job is created when the attempt is recorded): wait for both.
        var delivery = Assert.Single(await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Failed, HangfireJobId: not null }],
            "dead-lettered after the last attempt, with its dead-letter job"));
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal([1, 2, 3, 4, 5, 6], attempts.Select(a => a.AttemptNumber));
        Assert.All(attempts, a => Assert.Null(a.StatusCode));
        Assert.All(attempts, a => Assert.Contains("Network error", a.ErrorMessage));
        Assert.Equal(AttemptStatus.Failed, attempts[^1].Status);
        Assert.All(attempts.Take(5), a => Assert.Equal(AttemptStatus.Retrying, a.Status));

        // The row is saved before the job's exception reaches Hangfire, which then moves the job to Failed.
        await WaitForHangfireStateAsync(App, delivery.HangfireJobId!, "Failed");
    }

    [Fact]
    public async Task A_timeout_is_retried()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.RespondAsync(async (n, _) =>
        {
            if (n == 1) await Task.Delay(3000);
            return Results.Ok();
        });
        var hook = await CreateAsync(App, receiver.Url());
        using var admin = App.ApiClient();
        await ReportChangeAsync(admin, hook.Route);

        await WaitForDeliveriesAsync(App, hook.Id, d => d is [{ Status: DeliveryStatus.Success }], "delivered on the retry");
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal(2, attempts.Count);
        Assert.Contains("Timed out", attempts[0].ErrorMessage);
        // Cut by the 1 s timeout, not ended by the receiver's answer at 3 s; the upper bound leaves a loaded
        // machine almost 2 s to fire the timer and still tells the two apart.
        Assert.InRange(attempts[0].DurationMs, 900, 2900);
        Assert.Equal(AttemptStatus.Retrying, attempts[0].Status);
        Assert.Equal(200, attempts[1].StatusCode);
    }

    [Fact]
    public async Task A_slow_webhook_does_not_delay_a_healthy_one()
    {
        await using var slow = await TestReceiver.StartAsync();
        slow.RespondAsync(async (_, _) =>
        {
            await Task.Delay(3000);
            return Results.Ok();
        });
        await using var healthy = await TestReceiver.StartAsync();
        var route = "route-" + Guid.NewGuid().ToString("n")[..8];
        var slowHook = await CreateAsync(App, slow.Url(), route);
        var healthyHook = await CreateAsync(App, healthy.Url(), route);
        using var admin = App.ApiClient();

        for (var i = 0; i < 5; i++) await ReportChangeAsync(admin, route);
        var received = await healthy.WaitForCountAsync(5, TimeSpan.FromSeconds(10));

        var slowAttempts = await WaitForAttemptsAsync(App, slowHook.Id, a => a.Count(x => x.AttemptNumber == 1) == 5, "the slow webhook's first attempts recorded");
        var healthyAttempts = await WaitForAttemptsAsync(App, healthyHook.Id, a => a.Count == 5, "the healthy webhook's attempts recorded");
        // Each change is measured against its own fan-out's slow attempt rather than a wall-clock bound (a loaded
        // machine can take a second to ingest five changes): the healthy receipt, and the healthy attempt's row,
        // come before the slow attempt is cut by the 1 s timeout, not when the slowest of the fan-out is done.
        var slowTimedOutAt = slowAttempts.Where(a => a.AttemptNumber == 1).ToDictionary(a => a.PolicyChangeId!.Value, a => a.CreatedAt);
        Assert.All(received, r =>
        {
            var timedOut = slowTimedOutAt[PolicyChangeIdOf(r)];
            Assert.True(r.At.UtcDateTime < timedOut, $"healthy receipt at {r.At:HH:mm:ss.fff}, the slow attempt timed out at {timedOut:HH:mm:ss.fff}");
        });
        Assert.All(healthyAttempts, a => Assert.True(a.CreatedAt < slowTimedOutAt[a.PolicyChangeId!.Value],
            $"healthy attempt recorded at {a.CreatedAt:HH:mm:ss.fff}, the slow one timed out at {slowTimedOutAt[a.PolicyChangeId!.Value]:HH:mm:ss.fff}"));
        Assert.All(healthyAttempts, a => Assert.Equal(AttemptStatus.Success, a.Status));
    }

    private static Guid PolicyChangeIdOf(ReceivedRequest request) =>
        System.Text.Json.JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("policyChangeId").GetGuid();

    internal static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
