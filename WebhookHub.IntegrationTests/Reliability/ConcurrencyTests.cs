using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Persistence;
using WebhookHub.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>SQLite has one writer: under concurrent ingest, reads and deliveries, "database is locked" never reaches a caller or costs an attempt row.</summary>
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hammering_ingest_reads_and_deliveries_at_once_returns_no_500_and_records_every_attempt()
    {
        await using var receiver = await TestReceiver.StartAsync();
        // One answer in ten is a 503, so retries write attempt rows alongside first attempts and ingest.
        receiver.Respond((n, _) => n % 10 == 0 ? Results.StatusCode(503) : Results.Ok());
        await using var app = new WebhookHubApp(new Dictionary<string, string?>
        {
            ["WebhookHub:Delivery:RetryDelaysSeconds:0"] = "1",
            ["WebhookHub:Delivery:RetryDelaysSeconds:1"] = "1",
            ["WebhookHub:Delivery:RetryDelaysSeconds:2"] = "1",
            ["WebhookHub:Delivery:RetryDelaysSeconds:3"] = "1",
            ["WebhookHub:Delivery:RetryDelaysSeconds:4"] = "1",
            ["WebhookHub:Api:RequestsPerSecond"] = "100000",
            ["WebhookHub:Api:Burst"] = "100000",
        });
        using var api = app.ApiClient();
        var webhooks = new List<Guid>();
        for (var i = 0; i < 10; i++) webhooks.Add(await Hub.CreateWebhookAsync(api, receiver.Url($"/load-{i}")));

        var statuses = new ConcurrentBag<HttpStatusCode>();
        var slowest = 0L;
        async Task Call(Func<Task<HttpResponseMessage>> send)
        {
            var timer = System.Diagnostics.Stopwatch.StartNew();
            using var response = await send();
            statuses.Add(response.StatusCode);
            var ms = timer.ElapsedMilliseconds;
            long seen;
            while (ms > (seen = Interlocked.Read(ref slowest)) && Interlocked.CompareExchange(ref slowest, ms, seen) != seen) { }
        }
        var ingest = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await Call(() => api.PostAsync("/api/policy-changes", System.Net.Http.Json.JsonContent.Create(new
                {
                    route = "uk-student-visa", source = "https://example.gov", diff = "-a\n+b\n",
                })));
            }
        }));
        var reads = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                await Call(() => api.GetAsync($"/api/webhooks/{webhooks[i % webhooks.Count]}/deliveries?pageSize=100"));
                await Call(() => api.GetAsync("/api/dead-letters"));
                await Call(() => api.GetAsync("/api/policy-changes?pageSize=100"));
            }
        }));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(ingest.Concat(reads));
        output.WriteLine($"Load phase took {clock.ElapsedMilliseconds} ms; slowest API call {Interlocked.Read(ref slowest)} ms.");

        Assert.DoesNotContain(statuses, s => (int)s >= 500);
        Assert.Equal(60, statuses.Count(s => s == HttpStatusCode.Accepted));
        const int expected = 60 * 10;
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        await Eventually.True(
            () => db.Deliveries.AsNoTracking().Count(d => d.Status == DeliveryStatus.Success) == expected,
            "every delivery successful", TimeSpan.FromSeconds(90),
            () => $"{db.Deliveries.AsNoTracking().Count(d => d.Status == DeliveryStatus.Success)} of {expected} deliveries succeeded");

        output.WriteLine($"All delivered {clock.ElapsedMilliseconds} ms after the load began.");
        // Every request the receiver saw has its attempt row, numbered without gaps per delivery.
        var attempts = await db.Attempts.AsNoTracking().Select(a => new { a.DeliveryId, a.AttemptNumber }).ToListAsync();
        var counts = await db.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.AttemptCount);
        output.WriteLine($"{statuses.Count} API calls, {receiver.Requests.Count} requests received, {attempts.Count} attempt rows.");
        Assert.Equal(receiver.Requests.Count, attempts.Count);
        Assert.All(attempts.GroupBy(a => a.DeliveryId), g =>
            Assert.Equal(Enumerable.Range(1, counts[g.Key]), g.Select(a => a.AttemptNumber).Order()));
        Assert.Equal(counts.Count, attempts.Select(a => a.DeliveryId).Distinct().Count());
    }
}
