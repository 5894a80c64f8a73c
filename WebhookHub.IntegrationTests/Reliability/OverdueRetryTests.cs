using Hangfire;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>
/// Whatever stalls a retry inside Hangfire, the minutely owed sweep does not trust it: a retry more than a
/// minute overdue and not running is requeued, counted in /metrics, and the pickup lag shows the stall.
/// </summary>
public sealed class OverdueRetryTests
{
    [Fact]
    public async Task A_retry_stalled_past_its_time_is_requeued_by_the_owed_sweep_and_shows_in_metrics()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, request) => request.Header("X-Webhook-Attempt") == "1" ? Results.StatusCode(503) : Results.Ok());
        // The retry is scheduled an hour out, so only the sweep can bring it forward.
        await using var app = new WebhookHubApp(new Dictionary<string, string?> { ["WebhookHub:Delivery:RetryDelaysSeconds:0"] = "3600" });
        using var api = app.ApiClient();
        await Hub.CreateWebhookAsync(api, receiver.Url("/parked"), "overdue");
        var jobless = await Hub.CreateWebhookAsync(api, receiver.Url("/jobless"), "overdue");
        await Hub.PostChangeAsync(api, "overdue");

        await Eventually.Async(async () => (await Deliveries(app)).Count(d => d.Status == DeliveryStatus.Retrying && d.HangfireJobId != null) == 2,
            "both deliveries retrying with a scheduled job");
        // The stall: both were due two minutes ago. One job is still Scheduled (a scheduler that never
        // enqueued it); the other delivery names a job Hangfire does not have.
        await TestWebhooks.QueryAsync(app, async db =>
        {
            var overdue = DateTime.UtcNow.AddMinutes(-2);
            await db.Deliveries.ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, overdue));
            return await db.Deliveries.Where(d => d.WebhookId == jobless).ExecuteUpdateAsync(s => s.SetProperty(d => d.HangfireJobId, "987654321"));
        });

        app.Services.GetRequiredService<IRecurringJobManager>().Trigger(FanoutDispatcher.OwedJobId);

        await receiver.WaitForAsync(r => r.Count(x => x.Header("X-Webhook-Attempt") == "2") == 2, TimeSpan.FromSeconds(30));
        await Eventually.Async(async () => (await Deliveries(app)).All(d => d.Status == DeliveryStatus.Success), "both delivered");
        Assert.Equal(["/jobless", "/parked"], receiver.Requests.Where(r => r.Header("X-Webhook-Attempt") == "2").Select(r => r.Path).Order());

        // An operator sees it: two requeued, and two retries picked up more than a minute late.
        var metrics = await (await api.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Equal(2, Prometheus.Sample(metrics, "webhookhub_delivery_retry_overdue_requeued_total"));
        Assert.Equal(2, Prometheus.Sample(metrics, "webhookhub_delivery_retry_pickup_lag_seconds_count"));
        Assert.Equal(0, Prometheus.Sample(metrics, "webhookhub_delivery_retry_pickup_lag_seconds_bucket", "le=\"60\""));
    }

    private static Task<List<Core.Delivery.Delivery>> Deliveries(WebhookHubApp app) =>
        TestWebhooks.QueryAsync(app, db => db.Deliveries.AsNoTracking().ToListAsync());
}
