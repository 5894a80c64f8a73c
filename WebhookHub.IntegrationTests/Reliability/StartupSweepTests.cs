using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>
/// app.db and hangfire.db are separate files, so a crash can leave work in one that the other never
/// heard of. The startup sweep finds it and hands it back to Hangfire.
/// </summary>
public sealed class StartupSweepTests
{
    [Fact]
    public async Task Work_app_db_owes_without_a_hangfire_job_is_done_after_the_next_start()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "webhookhub-tests", Guid.NewGuid().ToString("n"));
        Guid strandedChange, orphanDelivery;
        string orphanEventId;

        await using (var first = new WebhookHubApp(dataDirectory: data) { KeepData = true })
        {
            using var api = first.ApiClient();
            await Hub.CreateWebhookAsync(api, receiver.Url("/sweep"));
            await Hub.PostChangeAsync(api);
            await receiver.WaitForCountAsync(1);

            using var scope = first.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            await WaitForDeliveryStatusAsync(db, DeliveryStatus.Success);
            // A retry whose Hangfire job was lost: its attempt was recorded, then the process died before the job was made.
            var delivery = await db.Deliveries.SingleAsync();
            delivery.Status = DeliveryStatus.Retrying;
            delivery.HangfireJobId = null;
            orphanDelivery = delivery.Id;
            orphanEventId = delivery.EventId;
            // A change saved a moment before the process died, before its fan-out job was enqueued.
            var change = new PolicyChange
            {
                Id = Guid.CreateVersion7(), Route = "uk-student-visa", Source = "https://example.gov", Diff = "-a\n+b\n",
                DetectedAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow,
            };
            db.PolicyChanges.Add(change);
            strandedChange = change.Id;
            await db.SaveChangesAsync();
        }
        // The first app has stopped without sending the stranded work (its minutely sweep only takes work
        // older than a minute), so whatever arrives from here on was found by the second start.
        Assert.Single(receiver.Requests);

        await using var second = new WebhookHubApp(dataDirectory: data);
        _ = second.BaseAddress;
        var requests = await receiver.WaitForAsync(r => r.Count >= 3, TimeSpan.FromSeconds(20));

        Assert.Contains(requests, r => Hub.ChangeIdOf(r) == strandedChange.ToString());
        var retried = requests.Where(r => r.Header("webhook-id") == orphanEventId).ToList();
        Assert.Equal(2, retried.Count);
        Assert.Equal("2", retried[1].Header("X-Webhook-Attempt"));
        using var scope2 = second.Services.CreateScope();
        var db2 = scope2.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        await WaitForDeliveryStatusAsync(db2, DeliveryStatus.Success, count: 2);
        Assert.NotNull((await db2.PolicyChanges.AsNoTracking().SingleAsync(p => p.Id == strandedChange)).FannedOutAt);
        Assert.Equal(DeliveryStatus.Success, (await db2.Deliveries.AsNoTracking().SingleAsync(d => d.Id == orphanDelivery)).Status);
    }

    private static async Task WaitForDeliveryStatusAsync(WebhookHubDbContext db, DeliveryStatus status, int count = 1)
    {
        await Eventually.True(() => db.Deliveries.AsNoTracking().Count(d => d.Status == status) == count, $"{count} deliveries {status}",
            state: () => string.Join(", ", db.Deliveries.AsNoTracking().Select(d => d.Status)));
    }
}
