using System.Diagnostics;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>Old delivery history is purged in small batches by a recurring job; what is recent or unfinished stays, and deliveries go on meanwhile.</summary>
public sealed class RetentionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Purge_removes_history_older_than_the_retention_in_batches_while_deliveries_go_on()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = new WebhookHubApp(new Dictionary<string, string?>
        {
            ["WebhookHub:Retention:Days"] = "30",
            ["WebhookHub:Retention:BatchSize"] = "500",
        });
        using var api = app.ApiClient();
        var webhookId = await Hub.CreateWebhookAsync(api, receiver.Url("/retention"));

        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            var now = DateTime.UtcNow;
            Seed(db, webhookId, "old", now.AddDays(-40), DeliveryStatus.Success, deliveries: 1500, attemptsEach: 2);
            Seed(db, webhookId, "old-unfinished", now.AddDays(-40), DeliveryStatus.Retrying, deliveries: 1, attemptsEach: 1);
            Seed(db, webhookId, "recent", now.AddDays(-5), DeliveryStatus.Success, deliveries: 10, attemptsEach: 1);
            await db.SaveChangesAsync();
        }

        RetentionResult result;
        var purging = Stopwatch.StartNew();
        using (var scope = app.Services.CreateScope())
        {
            // A delivery made while the purge runs must not wait for it.
            var purge = scope.ServiceProvider.GetRequiredService<RetentionJob>().PurgeAsync(CancellationToken.None);
            var posted = Stopwatch.StartNew();
            await Hub.PostChangeAsync(api);
            await receiver.WaitForCountAsync(1, TimeSpan.FromSeconds(10));
            output.WriteLine($"A delivery during the purge arrived after {posted.ElapsedMilliseconds} ms.");
            result = await purge;
        }
        output.WriteLine($"Purged {result} in {purging.ElapsedMilliseconds} ms.");

        Assert.Equal(new RetentionResult(Attempts: 3001, Deliveries: 1500, Events: 1500), result);
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            Assert.Equal(0, await db.Events.CountAsync(e => e.Id.StartsWith("evt_old_")));
            Assert.Equal(10, await db.Deliveries.CountAsync(d => d.EventId.StartsWith("evt_recent_")));
            Assert.Equal(10, await db.Attempts.CountAsync(a => a.EventId.StartsWith("evt_recent_")));
            // Unfinished work is never purged, however old; only its old attempt row goes.
            Assert.Equal(1, await db.Deliveries.CountAsync(d => d.EventId.StartsWith("evt_old-unfinished_")));
            Assert.Equal(1, await db.Events.CountAsync(e => e.Id.StartsWith("evt_old-unfinished_")));
            Assert.Equal(1, await db.PolicyChanges.CountAsync());
        }

        // Registered beside start-up (RecurringJobsRegistration), so waited for.
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        await Eventually.True(() => connection.GetRecurringJobs().Any(j => j.Id == RetentionJob.RecurringJobId), "the purge's recurring job");
        var recurring = Assert.Single(connection.GetRecurringJobs(), j => j.Id == RetentionJob.RecurringJobId);
        Assert.Equal(nameof(RetentionJob.PurgeAsync), recurring.Job.Method.Name);
    }

    private static void Seed(WebhookHubDbContext db, Guid webhookId, string tag, DateTime at, DeliveryStatus status, int deliveries, int attemptsEach)
    {
        for (var i = 0; i < deliveries; i++)
        {
            var evt = new WebhookEvent { Id = $"evt_{tag}_{i}", Type = EventTypes.PolicyChangeDetected, Payload = "{}", CreatedAt = at };
            var delivery = new WebhookHub.Core.Delivery.Delivery
            {
                Id = Guid.CreateVersion7(), WebhookId = webhookId, EventId = evt.Id, EventType = evt.Type, Status = status,
                AttemptCount = attemptsEach, CreatedAt = at, UpdatedAt = at, LastAttemptAt = at,
            };
            db.Events.Add(evt);
            db.Deliveries.Add(delivery);
            for (var n = 1; n <= attemptsEach; n++)
                db.Attempts.Add(new DeliveryAttempt
                {
                    Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, WebhookId = webhookId, EventId = evt.Id, EventType = evt.Type,
                    Status = AttemptStatus.Success, StatusCode = 200, AttemptNumber = n, CreatedAt = at, DurationMs = 5,
                });
        }
    }
}
