using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using WebhookHub.IntegrationTests.Delivery;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Api;

/// <summary>Quotas that keep the shared hub fair: test sends per webhook, webhooks per customer, the API rate limit per user.</summary>
public sealed class QuotaTests(QuotaTests.AppFixture fixture) : IClassFixture<QuotaTests.AppFixture>
{
    // A low API limit so that a few requests show it; a burst of 20 leaves room for each test's setup calls.
    public sealed class AppFixture() : Infrastructure.AppFixture(new Dictionary<string, string?>
    {
        ["WebhookHub:Api:RequestsPerSecond"] = "1",
        ["WebhookHub:Api:Burst"] = "20",
        ["WebhookHub:Quotas:MaxWebhooksPerCustomer"] = "2",
        ["WebhookHub:Delivery:TimeoutSeconds"] = "1",
    });

    private WebhookHubApp App => fixture.App;

    [Fact]
    public async Task The_sixth_test_send_within_five_seconds_gets_429_with_Retry_After_and_a_failed_test_is_not_retried()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond((_, _) => Results.StatusCode(503));
        var hook = await CreateAsync(App, receiver.Url());
        using var owner = App.ApiClient();

        for (var i = 1; i <= 5; i++)
        {
            var response = await owner.PostAsync($"/api/webhooks/{hook.Id}/test", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("failed", result.GetProperty("status").GetString());
        }
        var sixth = await owner.PostAsync($"/api/webhooks/{hook.Id}/test", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.InRange(sixth.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 5);
        Assert.Equal("application/problem+json", sixth.Content.Headers.ContentType!.MediaType);

        // 503 is retryable, yet a test is not retried: five presses, five requests, however long we wait.
        await Task.Delay(2500);
        Assert.Equal(5, receiver.Requests.Count);
        Assert.Empty((await owner.GetFromJsonAsync<JsonElement>($"/api/dead-letters?webhookId={hook.Id}")).EnumerateArray());
    }

    [Fact]
    public async Task The_rate_limit_is_per_user_so_a_second_key_buys_nothing()
    {
        using var admin = App.ApiClient();
        var (userId, key) = await CreateCustomerAsync(admin);
        var second = (await (await admin.PostAsJsonAsync("/api/api-keys", new { name = "second", userId }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var first = App.ApiClient(key);
        using var other = App.ApiClient(second);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++) statuses.Add((await first.GetAsync("/api/webhooks")).StatusCode);
        // The first key spent the user's burst; at one a second, the second key's few requests cannot all pass.
        var fromSecond = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++) fromSecond.Add((await other.GetAsync("/api/webhooks")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, fromSecond);
    }

    [Fact]
    public async Task A_customer_may_have_only_as_many_webhooks_as_the_setting_allows()
    {
        using var admin = App.ApiClient();
        var (_, key) = await CreateCustomerAsync(admin);
        using var customer = App.ApiClient(key);
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Created,
                (await customer.PostAsJsonAsync("/api/webhooks", new { name = $"hook {i}", url = $"http://127.0.0.1:9/{i}" })).StatusCode);

        var third = await customer.PostAsJsonAsync("/api/webhooks", new { name = "one too many", url = "http://127.0.0.1:9/3" });
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Contains("2 webhooks", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        // Admins are not capped.
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Created,
                (await admin.PostAsJsonAsync("/api/webhooks", new { name = $"admin {i}", url = $"http://127.0.0.1:9/a{i}" })).StatusCode);
    }
}
