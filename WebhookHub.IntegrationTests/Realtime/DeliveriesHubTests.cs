using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR.Client;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Realtime;

/// <summary>One app for the class: the tests make their own users and webhooks, and only the first counts events.</summary>
public sealed class DeliveriesHubTests(AppFixture fixture) : IClassFixture<AppFixture>, IAsyncLifetime
{
    private readonly WebhookHubApp _app = fixture.App;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    /// <summary>A hub client that keeps every event by method name, as a script would.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        public required HubConnection Connection { get; init; }
        public ConcurrentQueue<(string Method, JsonElement Body)> Events { get; } = new();

        public IEnumerable<string> WebhookIds(string method) =>
            Events.Where(e => e.Method == method).Select(e => e.Body.GetProperty("webhookId").GetString()!);

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    private async Task<Listener> ListenAsync(string? apiKey)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_app.BaseAddress, "/hubs/deliveries"), o => o.AccessTokenProvider = () => Task.FromResult(apiKey))
            .Build();
        var listener = new Listener { Connection = connection };
        foreach (var method in new[] { "attemptRecorded", "deadLettered", "webhookChanged" })
            connection.On<JsonElement>(method, body => listener.Events.Enqueue((method, body)));
        // Not StartAsync alone: an event published before the server joined the group was missed once (staff saw 5 of 6 attempts).
        await connection.StartSubscribedAsync();
        return listener;
    }

    private static string Describe(Listener listener) =>
        string.Join(", ", listener.Events.GroupBy(e => e.Method).Select(g => $"{g.Count()} {g.Key}"));

    private static string KeyOf(ApiUsers.ApiUser user) => user.Client.DefaultRequestHeaders.Authorization!.Parameter!;

    private async Task<string> CreateWebhookAsync(HttpClient client, string path)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", new { name = path.Trim('/'), url = _receiver.Url(path) });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_customer_receives_the_events_of_its_own_webhooks_only_and_staff_receive_all()
    {
        _receiver.Respond((_, req) => req.Path == "/b" ? Results.NotFound() : Results.Ok());
        using var customerA = await ApiUsers.CreateAsync(_app);
        using var customerB = await ApiUsers.CreateAsync(_app);
        var hookA = await CreateWebhookAsync(customerA.Client, "/a");
        var hookB = await CreateWebhookAsync(customerB.Client, "/b");
        await using var a = await ListenAsync(KeyOf(customerA));
        await using var b = await ListenAsync(KeyOf(customerB));
        await using var staff = await ListenAsync(WebhookHubApp.AdminApiKey);

        using var admin = _app.ApiClient();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync("/api/policy-changes",
                new { route = "visa/uk", source = "https://example.gov/visa", diff = $"- {i}\n+ {i + 1}" })).StatusCode);

        await Eventually.True(() => staff.WebhookIds("attemptRecorded").Count() == 6 && staff.WebhookIds("deadLettered").Count() == 3, "staff events",
            state: () => Describe(staff));
        await Eventually.True(() => a.WebhookIds("attemptRecorded").Count() == 3 && b.WebhookIds("deadLettered").Count() == 3, "customer events",
            state: () => $"A: {Describe(a)}; B: {Describe(b)}");
        // A disables its webhook: that news is A's too, and B's connection stays quiet about it.
        var disabled = await customerA.Client.PutAsJsonAsync($"/api/webhooks/{hookA}", new { name = "a", url = _receiver.Url("/a"), isActive = false });
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        await Eventually.True(() => a.WebhookIds("webhookChanged").Any() && staff.WebhookIds("webhookChanged").Any(), "webhook change",
            state: () => $"A: {Describe(a)}; staff: {Describe(staff)}");
        // Then B switches its own webhook off: the relay sends events one at a time in the order they were
        // published, so once B has its own news, A's earlier news would have reached B first, had it been sent to B.
        var disabledB = await customerB.Client.PutAsJsonAsync($"/api/webhooks/{hookB}", new { name = "b", url = _receiver.Url("/b"), isActive = false });
        Assert.Equal(HttpStatusCode.OK, disabledB.StatusCode);
        await Eventually.True(() => b.WebhookIds("webhookChanged").Any(), "B's own webhook change", state: () => $"B: {Describe(b)}");

        Assert.All(a.Events, e => Assert.Equal(hookA, e.Body.GetProperty("webhookId").GetString()));
        Assert.All(b.Events, e => Assert.Equal(hookB, e.Body.GetProperty("webhookId").GetString()));
        Assert.Equal(3, b.WebhookIds("attemptRecorded").Count());
        Assert.Empty(a.WebhookIds("deadLettered"));
        Assert.Equal([hookB], b.WebhookIds("webhookChanged"));
        Assert.Equal(new[] { hookA, hookB }.Order(), staff.WebhookIds("attemptRecorded").Distinct().Order());
        var first = a.Events.First(e => e.Method == "attemptRecorded").Body;
        Assert.Equal("success", first.GetProperty("status").GetString());
        Assert.Equal(200, first.GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task The_hub_refuses_anonymous_and_unknown_keys_and_takes_a_key_in_the_query_string()
    {
        var anonymous = new HubConnectionBuilder().WithUrl(new Uri(_app.BaseAddress, "/hubs/deliveries")).Build();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await using var wrong = new HubConnectionBuilder()
            .WithUrl(new Uri(_app.BaseAddress, "/hubs/deliveries"), o => o.AccessTokenProvider = () => Task.FromResult<string?>("whk_nope"))
            .Build();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<HttpRequestException>(() => wrong.StartAsync())).StatusCode);

        // Browsers cannot set headers on a WebSocket, so /hubs also accepts ?access_token=; nothing else does.
        using var plain = _app.ApiClient(apiKey: null);
        var key = Uri.EscapeDataString(WebhookHubApp.AdminApiKey);
        Assert.Equal(HttpStatusCode.OK, (await plain.PostAsync($"/hubs/deliveries/negotiate?negotiateVersion=1&access_token={key}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await plain.PostAsync("/hubs/deliveries/negotiate?negotiateVersion=1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await plain.GetAsync($"/api/webhooks?access_token={key}")).StatusCode);
    }
}
