using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Security;

/// <summary>Least privilege (the Reporter role) and revocation that takes effect at once, over real HTTP and SignalR.</summary>
public sealed class AccessTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private WebhookHubApp App => fixture.App;

    private static string KeyOf(ApiUsers.ApiUser user) => user.Client.DefaultRequestHeaders.Authorization!.Parameter!;

    private static object Change(string route) => new { route, source = "https://example.gov/" + route, diff = "--- a\n+++ b\n" };

    [Fact]
    public async Task A_reporter_posts_and_reads_policy_changes()
    {
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        var posted = await reporter.Client.PostAsJsonAsync("/api/policy-changes", Change("reporter-route"));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var id = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await reporter.Client.GetAsync($"/api/policy-changes/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reporter.Client.GetAsync("/api/policy-changes")).StatusCode);
    }

    /// <summary>Every endpoint the app maps, found from its route table, so one added later is covered too.</summary>
    [Fact]
    public async Task A_reporter_key_gets_403_on_every_other_endpoint()
    {
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        var endpoints = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            // A Reporter reports changes, and may watch pages that do (issue 17): SourcesTests covers its access there.
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/api/policy-changes", StringComparison.Ordinal)
                && !raw.StartsWith("/api/sources", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, e.RoutePattern.RawText!)))
            .Distinct().ToList();
        Assert.Contains(endpoints, e => e.Item2.StartsWith("/api/webhooks", StringComparison.Ordinal));
        Assert.Contains(endpoints, e => e.Item2.StartsWith("/api/users", StringComparison.Ordinal));

        var allowed = new List<string>();
        foreach (var (method, pattern) in endpoints)
        {
            var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\*?\*?([^}:=]+)[^}]*\}", m =>
                m.Groups[1].Value.Contains("id", StringComparison.OrdinalIgnoreCase) ? Guid.NewGuid().ToString() : "x");
            if (!path.StartsWith('/')) path = "/" + path;
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT" or "PATCH")
                request.Content = JsonContent.Create(new { });
            var response = await reporter.Client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Forbidden)
                allowed.Add($"{method} {path} → {(int)response.StatusCode}");
        }
        Assert.True(allowed.Count == 0, "a Reporter got past:\n" + string.Join("\n", allowed));
    }

    [Fact]
    public async Task Customers_and_operators_cannot_report_changes()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.Client.PostAsJsonAsync("/api/policy-changes", Change("c"))).StatusCode);
    }

    [Fact]
    public async Task A_policy_change_source_must_be_an_absolute_http_url()
    {
        using var admin = App.ApiClient();
        foreach (var source in new[] { "javascript:alert(document.cookie)", "data:text/html,<script>1</script>", "/relative", "ftp://example.gov/x" })
        {
            var response = await admin.PostAsJsonAsync("/api/policy-changes", new { route = "r", source, diff = "d" });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.True(errors.TryGetProperty("source", out _), source + ": " + errors.GetRawText());
        }
    }

    [Fact]
    public async Task A_disabled_users_keys_stop_at_once_and_work_again_when_enabled()
    {
        using var admin = App.ApiClient();
        using var customer = await ApiUsers.CreateAsync(App);
        Assert.Equal(HttpStatusCode.OK, (await customer.Client.GetAsync("/api/webhooks")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/users/{customer.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await customer.Client.GetAsync("/api/webhooks")).StatusCode);
        var listed = (await admin.GetFromJsonAsync<JsonElement>("/api/users")).EnumerateArray().Single(u => u.GetProperty("id").GetString() == customer.Id);
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("disabledAt").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/users/{customer.Id}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await customer.Client.GetAsync("/api/webhooks")).StatusCode);
    }

    [Fact]
    public async Task An_admin_revokes_another_users_key_and_a_customer_cannot()
    {
        using var admin = App.ApiClient();
        using var owner = await ApiUsers.CreateAsync(App);
        using var other = await ApiUsers.CreateAsync(App);
        var keys = await admin.GetFromJsonAsync<JsonElement>($"/api/api-keys?userId={owner.Id}");
        var keyId = keys.EnumerateArray().Single().GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.DeleteAsync($"/api/api-keys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await other.Client.GetAsync($"/api/api-keys?userId={owner.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync("/api/webhooks")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/api-keys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.Client.GetAsync("/api/webhooks")).StatusCode);
    }

    private async Task<HubConnection> ConnectAsync(string apiKey)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(App.BaseAddress, "/hubs/deliveries"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(apiKey))
            .Build();
        await connection.StartSubscribedAsync();
        return connection;
    }

    /// <summary>Completes when the server ends the connection.</summary>
    private static Task Closed(HubConnection connection)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        return closed.Task;
    }

    [Fact]
    public async Task Revoking_a_key_closes_the_hub_connections_made_with_it()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        await using var connection = await ConnectAsync(KeyOf(customer));
        var closed = Closed(connection);
        var keyId = (await customer.Client.GetFromJsonAsync<JsonElement>("/api/api-keys")).EnumerateArray().Single().GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.NoContent, (await customer.Client.DeleteAsync($"/api/api-keys/{keyId}")).StatusCode);

        await closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HubConnectionState.Disconnected, connection.State);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ConnectAsync(KeyOf(customer)));
    }

    [Fact]
    public async Task Disabling_a_user_closes_their_hub_connections()
    {
        using var admin = App.ApiClient();
        using var operatorUser = await ApiUsers.CreateAsync(App, "Operator");
        await using var connection = await ConnectAsync(KeyOf(operatorUser));
        var closed = Closed(connection);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/users/{operatorUser.Id}/disable", null)).StatusCode);

        await closed.WaitAsync(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => ConnectAsync(KeyOf(operatorUser)));
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_answer_with_the_first_change()
    {
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        var route = "idem-" + Guid.NewGuid().ToString("n")[..8];
        var key = Guid.NewGuid().ToString();
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/policy-changes") { Content = JsonContent.Create(Change(route)) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await reporter.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(1, await TestWebhooks.QueryAsync(App, db => db.PolicyChanges.CountAsync(p => p.Route == route)));

        // Without the header every POST is a new change, as before.
        Assert.Equal(HttpStatusCode.Accepted, (await reporter.Client.PostAsJsonAsync("/api/policy-changes", Change(route))).StatusCode);
        Assert.Equal(2, await TestWebhooks.QueryAsync(App, db => db.PolicyChanges.CountAsync(p => p.Route == route)));
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_body_is_a_409()
    {
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> PostAsync(string route)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/policy-changes") { Content = JsonContent.Create(Change(route)) };
            request.Headers.Add("Idempotency-Key", key);
            return await reporter.Client.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("first-" + key)).StatusCode);
        var conflict = await PostAsync("second-" + key);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await TestWebhooks.QueryAsync(App, db => db.PolicyChanges.CountAsync(p => p.Route == "second-" + key)));

        // Keys belong to their caller: another producer may use the same string.
        using var other = await ApiUsers.CreateAsync(App, "Reporter");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/policy-changes") { Content = JsonContent.Create(Change("second-" + key)) };
        request.Headers.Add("Idempotency-Key", key);
        Assert.Equal(HttpStatusCode.Accepted, (await other.Client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_create_one_change()
    {
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        var route = "idem-race-" + Guid.NewGuid().ToString("n")[..8];
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/policy-changes") { Content = JsonContent.Create(Change(route)) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await reporter.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        }));
        Assert.Single(responses.Distinct());
        Assert.Equal(1, await TestWebhooks.QueryAsync(App, db => db.PolicyChanges.CountAsync(p => p.Route == route)));
    }
}
