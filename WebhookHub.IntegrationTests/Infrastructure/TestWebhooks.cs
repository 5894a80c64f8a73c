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
/// Test setup and waits (through <see cref="Eventually"/>) for the delivery pipeline. Webhooks are inserted through the app's
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

    /// <summary>Waits until the webhook's deliveries satisfy <paramref name="until"/>, and returns them; a failure lists each one's state.</summary>
    public static Task<List<Core.Delivery.Delivery>> WaitForDeliveriesAsync(WebhookHubApp app, Guid webhookId,
        Func<List<Core.Delivery.Delivery>, bool> until, string what, TimeSpan? timeout = null) =>
        Eventually.Matches(() => DeliveriesAsync(app, webhookId), until, what, timeout, deliveries => string.Join("; ", deliveries.Select(d =>
            $"{d.Status} after {d.AttemptCount} attempts, next {d.NextAttemptAt:HH:mm:ss.fff}, job {d.HangfireJobId ?? "none"}, {d.LastError}")));

    /// <summary>Waits until the webhook's attempts (in attempt order) satisfy <paramref name="until"/>, and returns them.</summary>
    public static Task<List<Core.Delivery.DeliveryAttempt>> WaitForAttemptsAsync(WebhookHubApp app, Guid webhookId,
        Func<List<Core.Delivery.DeliveryAttempt>, bool> until, string what, TimeSpan? timeout = null) =>
        Eventually.Matches(() => AttemptsAsync(app, webhookId), until, what, timeout, attempts => string.Join("; ", attempts.Select(a =>
            $"#{a.AttemptNumber} {a.Status} {a.StatusCode} at {a.CreatedAt:HH:mm:ss.fff}")));

    /// <summary>The name of a Hangfire job's current state (Scheduled, Processing, Succeeded, Failed…).</summary>
    public static string HangfireState(WebhookHubApp app, string jobId)
    {
        using var connection = app.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection();
        return connection.GetStateData(jobId)?.Name ?? "(none)";
    }

    /// <summary>Waits until a Hangfire job is in <paramref name="state"/> (the app saves its rows before the job returns, so Hangfire's state comes just after).</summary>
    public static Task WaitForHangfireStateAsync(WebhookHubApp app, string jobId, string state) =>
        Eventually.True(() => HangfireState(app, jobId) == state, $"Hangfire job {jobId} in the {state} state",
            state: () => HangfireState(app, jobId));

    /// <summary>
    /// <see cref="Eventually.Async"/> under its old name, for tests written against it on other branches
    /// (issue 11's storm and overdue-retry tests); new tests call <see cref="Eventually"/>.
    /// </summary>
    public static Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        Eventually.Async(condition, what, timeout);

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
