using System.Net;
using System.Net.Sockets;
using Hangfire;
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

        await EventuallyAsync(async () => (await DeliveriesAsync(App, hook.Id)) is [{ Status: DeliveryStatus.Failed }],
            "dead-lettered after the last attempt", TimeSpan.FromSeconds(30));
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal([1, 2, 3, 4, 5, 6], attempts.Select(a => a.AttemptNumber));
        Assert.All(attempts, a => Assert.Null(a.StatusCode));
        Assert.All(attempts, a => Assert.Contains("Network error", a.ErrorMessage));
        Assert.Equal(AttemptStatus.Failed, attempts[^1].Status);
        Assert.All(attempts.Take(5), a => Assert.Equal(AttemptStatus.Retrying, a.Status));

        // The row is saved before the job's exception reaches Hangfire, which then moves the job to Failed.
        var delivery = (await DeliveriesAsync(App, hook.Id))[0];
        using var connection = App.Services.GetRequiredService<JobStorage>().GetConnection();
        await EventuallyAsync(() => Task.FromResult(connection.GetStateData(delivery.HangfireJobId!)?.Name == "Failed"),
            "the retry job in Hangfire's Failed state", TimeSpan.FromSeconds(10));
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

        await EventuallyAsync(async () => (await DeliveriesAsync(App, hook.Id)) is [{ Status: DeliveryStatus.Success }], "delivered on the retry");
        var attempts = await AttemptsAsync(App, hook.Id);
        Assert.Equal(2, attempts.Count);
        Assert.Contains("Timed out", attempts[0].ErrorMessage);
        Assert.InRange(attempts[0].DurationMs, 900, 2500);
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

        var reported = DateTimeOffset.UtcNow;
        for (var i = 0; i < 5; i++) await ReportChangeAsync(admin, route);
        var received = await healthy.WaitForCountAsync(5, TimeSpan.FromSeconds(10));
        // Each healthy receipt comes long before the slow webhook's 1 s timeout.
        Assert.All(received, r => Assert.True((r.At - reported).TotalSeconds < 0.9, $"healthy receipt after {(r.At - reported).TotalSeconds:0.00} s"));

        await EventuallyAsync(async () => (await AttemptsAsync(App, slowHook.Id)).Count >= 5, "the slow webhook's first attempts recorded");
        var healthyAttempts = await AttemptsAsync(App, healthyHook.Id);
        var slowAttempts = await AttemptsAsync(App, slowHook.Id);
        // Recorded as they finish, not when the slowest of the fan-out is done.
        Assert.True(healthyAttempts.Max(a => a.CreatedAt) < slowAttempts.Min(a => a.CreatedAt),
            "healthy attempts are recorded before the slow ones time out");
        Assert.All(healthyAttempts, a => Assert.Equal(AttemptStatus.Success, a.Status));
    }

    internal static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
