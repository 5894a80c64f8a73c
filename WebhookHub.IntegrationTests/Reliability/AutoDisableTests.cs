using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>A webhook that keeps failing is switched off, says why, tells the live feed, and comes back with its failures redelivered.</summary>
public sealed class AutoDisableTests
{
    private static WebhookHubApp App(int consecutive, int minutes) => new(new Dictionary<string, string?>
    {
        ["WebhookHub:Delivery:AutoDisable:ConsecutiveDeadLetters"] = consecutive.ToString(),
        ["WebhookHub:Delivery:AutoDisable:MinimumMinutes"] = minutes.ToString(),
    });

    [Fact]
    public async Task A_410_Gone_disables_the_webhook_at_once_with_the_reason_in_the_api_and_an_event_on_the_feed()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, _) => Results.StatusCode(StatusCodes.Status410Gone));
        await using var app = App(consecutive: 10, minutes: 60);
        var disabled = new ConcurrentQueue<WebhookStateChanged>();
        app.Services.GetRequiredService<DeliveryNotifier>().WebhookChanged += e => { if (!e.IsActive) disabled.Enqueue(e); };
        using var api = app.ApiClient();
        var id = await Hub.CreateWebhookAsync(api, receiver.Url("/gone"));

        await Hub.PostChangeAsync(api);

        var webhook = await WaitForWebhookAsync(api, id, w => !w.GetProperty("isActive").GetBoolean());
        Assert.Contains("410", webhook.GetProperty("disabledReason").GetString());
        Assert.Single(receiver.Requests);
        // Published just after the row is switched off (the owner is looked up in between): wait for it.
        await Eventually.True(() => !disabled.IsEmpty, "WebhookStateChanged published");
        var published = Assert.Single(disabled);
        Assert.Equal(id, published.WebhookId);
        Assert.Contains("410", published.Reason);
        // A disabled webhook receives nothing new: once the next change has fanned out (its deliveries are saved
        // with FannedOutAt in one transaction) and made none for this webhook, nothing can ever be sent for it.
        var next = await Hub.PostChangeAsync(api);
        await Eventually.Matches(() => api.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{next}"),
            c => c.GetProperty("fannedOutAt").ValueKind != JsonValueKind.Null, "the next change fanned out");
        Assert.Equal(0, await TestWebhooks.QueryAsync(app, db => db.Deliveries.CountAsync(d => d.PolicyChangeId == next)));
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task Consecutive_dead_letters_disable_it_and_enable_with_redelivery_sends_what_failed()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var healthy = false;
        receiver.Respond((_, _) => Volatile.Read(ref healthy) ? Results.Ok() : Results.BadRequest());
        await using var app = App(consecutive: 3, minutes: 0);
        using var api = app.ApiClient();
        var id = await Hub.CreateWebhookAsync(api, receiver.Url("/flaky"));

        await Hub.PostChangeAsync(api);
        await Hub.PostChangeAsync(api);
        await receiver.WaitForCountAsync(2);
        await WaitForDeadLettersAsync(api, id, 2);
        Assert.True((await GetWebhookAsync(api, id)).GetProperty("isActive").GetBoolean(), "two failures are below the rule");

        await Hub.PostChangeAsync(api);
        var webhook = await WaitForWebhookAsync(api, id, w => !w.GetProperty("isActive").GetBoolean());
        Assert.Contains("3 deliveries in a row", webhook.GetProperty("disabledReason").GetString());

        Volatile.Write(ref healthy, true);
        var response = await api.PostAsJsonAsync($"/api/webhooks/{id}/enable", new { redeliverFailed = true });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var enabled = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, enabled.GetProperty("requeued").GetInt32());
        Assert.True(enabled.GetProperty("webhook").GetProperty("isActive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("webhook").GetProperty("disabledReason").ValueKind);

        var requests = await receiver.WaitForCountAsync(6, TimeSpan.FromSeconds(15));
        Assert.Equal(3, requests.Skip(3).Select(r => r.Header("webhook-id")).Distinct().Count());
        await WaitForDeadLettersAsync(api, id, 0);
    }

    [Fact]
    public async Task A_burst_of_failures_shorter_than_the_minimum_duration_does_not_disable()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, _) => Results.BadRequest());
        await using var app = App(consecutive: 3, minutes: 60);
        using var api = app.ApiClient();
        var id = await Hub.CreateWebhookAsync(api, receiver.Url("/burst"));

        for (var i = 0; i < 4; i++) await Hub.PostChangeAsync(api);
        await WaitForDeadLettersAsync(api, id, 4);

        Assert.True((await GetWebhookAsync(api, id)).GetProperty("isActive").GetBoolean());
    }

    [Fact]
    public async Task A_circuit_that_stays_open_past_the_limit_disables_the_webhook_through_the_breakers_history()
    {
        await using var app = new WebhookHubApp(new Dictionary<string, string?>
        {
            ["WebhookHub:Delivery:Endpoints:Breaker:FailuresToOpen"] = "3",
            ["WebhookHub:Delivery:Endpoints:Breaker:FirstCooldownSeconds"] = "1",
            // 6 s: the dead-letter rule (10 over 60 minutes) cannot be what switches it off.
            ["WebhookHub:Delivery:AutoDisable:OpenCircuitMinutes"] = "0.1",
        });
        using var api = app.ApiClient();
        var id = await Hub.CreateWebhookAsync(api, $"http://127.0.0.1:{Delivery.FailingReceiverTests.UnusedPort()}/refused");

        for (var i = 0; i < 3; i++) await Hub.PostChangeAsync(api);
        await WaitForWebhookAsync(api, id, w => w.GetProperty("circuit").GetProperty("state").GetString() == "open");
        // The breaker forgets a switched-off webhook's circuit when the switch-off is published, a moment after
        // it is saved: the API can show "disabled, circuit open" in between (seen once), so wait for both.
        var webhook = await WaitForWebhookAsync(api, id, w => !w.GetProperty("isActive").GetBoolean()
            && w.GetProperty("circuit").GetProperty("state").GetString() == "closed");
        Assert.Contains("circuit has been open", webhook.GetProperty("disabledReason").GetString());
    }

    private static async Task<JsonElement> GetWebhookAsync(HttpClient api, Guid id) =>
        await api.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");

    private static Task<JsonElement> WaitForWebhookAsync(HttpClient api, Guid id, Func<JsonElement, bool> condition) =>
        Eventually.Matches(() => GetWebhookAsync(api, id), condition, "the webhook in the expected state");

    /// <summary>
    /// Until the webhook has exactly <paramref name="count"/> dead letters, each with its Failed Hangfire job. The job
    /// is made after the auto-disable rule has looked at the dead letter, so "still active" read after this is the
    /// rule's answer, not a look taken before the rule ran.
    /// </summary>
    private static Task WaitForDeadLettersAsync(HttpClient api, Guid id, int count) =>
        Eventually.Matches(() => api.GetFromJsonAsync<JsonElement>($"/api/dead-letters?webhookId={id}"),
            letters => letters.GetArrayLength() == count && letters.EnumerateArray().All(l => l.GetProperty("hangfireJobId").ValueKind == JsonValueKind.String),
            $"{count} dead letters, each with its Hangfire job");
}
