using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>A webhook made for a test, with its secret in clear for verifying signatures.</summary>
public sealed record TestWebhook(Guid Id, string Secret, string Url, string Route);

/// <summary>
/// Test setup and polling helpers for the delivery pipeline. Webhooks are inserted through the app's
/// DbContext until the webhook CRUD API (issue 3) is merged; only <see cref="CreateAsync"/> changes then.
/// </summary>
public static class TestWebhooks
{
    /// <summary>A webhook that follows only <paramref name="route"/> (a fresh one unless given), owned by the admin unless said.</summary>
    public static async Task<TestWebhook> CreateAsync(WebhookHubApp app, string url, string? route = null, string[]? events = null,
        string? userId = null, List<string>? routes = null)
    {
        route ??= "route-" + Guid.NewGuid().ToString("n")[..8];
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        var protector = scope.ServiceProvider.GetRequiredService<WebhookSecretProtector>();
        userId ??= (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(WebhookHubApp.AdminEmail))!.Id;
        var secret = WebhookSecret.Generate();
        var webhook = new Webhook
        {
            Id = Guid.CreateVersion7(), UserId = userId, Name = "test " + route, Url = url, Secret = protector.Protect(secret),
            Events = [.. events ?? [EventTypes.PolicyChangeDetected]], Routes = routes ?? [route],
            CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
        };
        db.Webhooks.Add(webhook);
        await db.SaveChangesAsync();
        return new TestWebhook(webhook.Id, secret, url, route);
    }

    /// <summary>Reports a policy change through the API (admin key) and returns its id.</summary>
    public static async Task<Guid> ReportChangeAsync(HttpClient admin, string route, string diff = "--- a\n+++ b\n-old\n+new\n", string? summary = "A change")
    {
        var response = await admin.PostAsJsonAsync("/api/policy-changes",
            new { route, source = "https://example.gov/" + route, diff, summary });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public static async Task<T> QueryAsync<T>(WebhookHubApp app, Func<WebhookHubDbContext, Task<T>> query)
    {
        using var scope = app.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>());
    }

    public static Task<List<Core.Delivery.DeliveryAttempt>> AttemptsAsync(WebhookHubApp app, Guid webhookId) =>
        QueryAsync(app, db => db.Attempts.AsNoTracking().Where(a => a.WebhookId == webhookId).OrderBy(a => a.AttemptNumber).ToListAsync());

    public static Task<List<Core.Delivery.Delivery>> DeliveriesAsync(WebhookHubApp app, Guid webhookId) =>
        QueryAsync(app, db => db.Deliveries.AsNoTracking().Where(d => d.WebhookId == webhookId).ToListAsync());

    /// <summary>Polls until <paramref name="condition"/> holds, or fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail("Timed out waiting for: " + what);
    }

    /// <summary>Creates a customer user and an API key for it through the API; returns (userId, key).</summary>
    public static async Task<(string UserId, string Key)> CreateCustomerAsync(HttpClient admin)
    {
        var email = $"customer-{Guid.NewGuid():n}@test.local";
        var user = await (await admin.PostAsJsonAsync("/api/users", new { email, password = "Customer-pass-1", role = "Customer" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var userId = user.GetProperty("id").GetString()!;
        var key = (await (await admin.PostAsJsonAsync("/api/api-keys", new { name = "k", userId }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return (userId, key);
    }
}
