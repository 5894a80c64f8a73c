using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>
/// Whatever stalls a retry inside Hangfire, the minutely owed sweep does not trust it: a retry more than a
/// minute overdue and not running is requeued, counted in /metrics, and the pickup lag shows the stall.
/// A retry whose job is scheduled for later (parked behind its endpoint) is left to its schedule.
/// </summary>
public sealed class OverdueRetryTests
{
    [Fact]
    public async Task A_retry_stalled_past_its_time_is_requeued_by_the_owed_sweep_and_shows_in_metrics()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, request) => request.Header("X-Webhook-Attempt") == "1" ? Results.StatusCode(503) : Results.Ok());
        // Retries are scheduled an hour out, so only the sweep can bring one forward.
        await using var app = new WebhookHubApp(new Dictionary<string, string?> { ["WebhookHub:Delivery:RetryDelaysSeconds:0"] = "3600" });
        using var api = app.ApiClient();
        var stranded = await Hub.CreateWebhookAsync(api, receiver.Url("/stranded"), "overdue");
        var jobless = await Hub.CreateWebhookAsync(api, receiver.Url("/jobless"), "overdue");
        var parked = await Hub.CreateWebhookAsync(api, receiver.Url("/parked"), "overdue");
        await Hub.PostChangeAsync(api, "overdue");

        var deliveries = await Eventually.Matches(() => Deliveries(app), d => d.Count(x => x.Status == DeliveryStatus.Retrying && x.HangfireJobId != null) == 3,
            "three deliveries retrying with a scheduled job");
        var jobs = app.Services.GetRequiredService<IBackgroundJobClient>();
        // The stalls, all due two minutes ago: one job enqueued where no worker reads (a fetch that never
        // finished), one delivery naming a job Hangfire does not have. The third is only parked: its job is
        // scheduled an hour out, as a delivery behind an open circuit is.
        Assert.True(jobs.ChangeState(deliveries.Single(d => d.WebhookId == stranded).HangfireJobId!, new EnqueuedState("nowhere")));
        await TestWebhooks.QueryAsync(app, async db =>
        {
            var overdue = DateTime.UtcNow.AddMinutes(-2);
            await db.Deliveries.ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, overdue));
            return await db.Deliveries.Where(d => d.WebhookId == jobless).ExecuteUpdateAsync(s => s.SetProperty(d => d.HangfireJobId, "987654321"));
        });

        app.Services.GetRequiredService<IRecurringJobManager>().Trigger(FanoutDispatcher.OwedJobId);

        await receiver.WaitForAsync(r => r.Count(x => x.Header("X-Webhook-Attempt") == "2") == 2, TimeSpan.FromSeconds(30));
        await Eventually.Async(async () => (await Deliveries(app)).Count(d => d.Status == DeliveryStatus.Success) == 2, "both stalled retries delivered");
        Assert.Equal(["/jobless", "/stranded"], receiver.Requests.Where(r => r.Header("X-Webhook-Attempt") == "2").Select(r => r.Path).Order());
        // The sweep ran to its end (its own job succeeded) and left the parked one to its schedule.
        string sweep;
        using (var connection = app.Services.GetRequiredService<JobStorage>().GetConnection())
            sweep = connection.GetRecurringJobs().Single(j => j.Id == FanoutDispatcher.OwedJobId).LastJobId;
        await TestWebhooks.WaitForHangfireStateAsync(app, sweep, SucceededState.StateName);
        var left = (await Deliveries(app)).Single(d => d.WebhookId == parked);
        Assert.Equal((DeliveryStatus.Retrying, 1), (left.Status, left.AttemptCount));
        Assert.Equal(ScheduledState.StateName, TestWebhooks.HangfireState(app, left.HangfireJobId!));

        // An operator sees it: two requeued, and two retries picked up more than a minute late.
        var metrics = await (await api.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Equal(2, Prometheus.Sample(metrics, "webhookhub_delivery_retry_overdue_requeued_total"));
        Assert.Equal(2, Prometheus.Sample(metrics, "webhookhub_delivery_retry_pickup_lag_seconds_count"));
        Assert.Equal(0, Prometheus.Sample(metrics, "webhookhub_delivery_retry_pickup_lag_seconds_bucket", "le=\"60\""));
    }

    private static Task<List<Core.Delivery.Delivery>> Deliveries(WebhookHubApp app) =>
        TestWebhooks.QueryAsync(app, db => db.Deliveries.AsNoTracking().ToListAsync());
}
