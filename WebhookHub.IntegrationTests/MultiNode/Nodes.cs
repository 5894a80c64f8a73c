using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// Two app processes on one data directory, so one PostgreSQL database: <see cref="Web"/> (named <c>web-a</c>) serves
/// the browser and the hub clients, <see cref="Worker"/> (<c>worker-b</c>) makes the deliveries. Their roles are
/// <see cref="WebRole"/> and <see cref="WorkerRole"/>.
/// </summary>
public sealed class Nodes : IAsyncDisposable
{
    public const string WebNode = "web-a", WorkerNode = "worker-b";

    /// <summary>
    /// Both do everything until roles and fan-out claims are in: a change is then fanned out by the node it is posted
    /// to, so the tests post to <see cref="Worker"/> (<see cref="Ingest"/>), and the web node makes no attempts of them.
    /// </summary>
    public const string WebRole = "All", WorkerRole = "All";

    private readonly string _data;

    private Nodes(string data, AppProcess web, AppProcess worker)
    {
        _data = data;
        Web = web;
        Worker = worker;
    }

    public AppProcess Web { get; }
    public AppProcess Worker { get; }

    /// <summary>Where policy changes are posted.</summary>
    public AppProcess Ingest => Worker;

    public string DataDirectory => _data;

    public static async Task<Nodes> StartAsync()
    {
        var data = Path.Combine(Path.GetTempPath(), "webhookhub-nodes", Guid.NewGuid().ToString("n"));
        // One after the other: the first migrates the database and makes the admin, the second finds them.
        var web = await AppProcess.StartAsync(data, TestDatabase.PrepareProcess(data, Settings(WebNode, WebRole)));
        try
        {
            var worker = await AppProcess.StartAsync(data, TestDatabase.PrepareProcess(data, Settings(WorkerNode, WorkerRole)));
            return new Nodes(data, web, worker);
        }
        catch
        {
            await web.DisposeAsync();
            await TestDatabase.DropAsync(data);
            throw;
        }
    }

    private static Dictionary<string, string> Settings(string node, string role) => new()
    {
        ["WebhookHub__NodeId"] = node,
        ["WebhookHub__Role"] = role,
        ["WebhookHub__Bootstrap__AdminEmail"] = WebhookHubApp.AdminEmail,
        ["WebhookHub__Bootstrap__AdminPassword"] = WebhookHubApp.AdminPassword,
        ["WebhookHub__Api__RequestsPerSecond"] = "10000",
        ["WebhookHub__Api__Burst"] = "10000",
    };

    public sealed record Customer(string Id, string ApiKey, HttpClient Client) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    /// <summary>A customer made by the admin over the web node's API, with an API key, and a client for that node.</summary>
    public async Task<Customer> CreateCustomerAsync()
    {
        using var admin = Web.ApiClient();
        var email = $"customer-{Guid.NewGuid():n}@test.local";
        var created = await admin.PostAsJsonAsync("/api/users", new { email, password = "Customer-pass-1", role = "Customer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var key = await admin.PostAsJsonAsync("/api/api-keys", new { name = "tests", userId = id });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var secret = (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        var client = new HttpClient { BaseAddress = Web.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return new Customer(id, secret, client);
    }

    public static async Task<Guid> CreateWebhookAsync(HttpClient client, string name, string url)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", new { name, url });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task PostChangeAsync(int n)
    {
        using var admin = Ingest.ApiClient();
        var response = await admin.PostAsJsonAsync("/api/policy-changes",
            new { route = "visa/uk", source = "https://example.gov/visa", diff = $"- fee {n}\n+ fee {n + 1}" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Attempts in the shared database: all, and the successful ones.</summary>
    public (long Total, long Successes) AttemptCounts() =>
        (Reliability.Hub.Scalar(_data, "SELECT count(*) FROM webhook_deliveries"),
            Reliability.Hub.Scalar(_data, "SELECT count(*) FROM webhook_deliveries WHERE status = 'success'"));

    /// <summary>Terminates the web node's LISTEN connection (as a restarted or failed-over database would); returns how many were.</summary>
    public async Task<int> CutWebListenerAsync()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_data));
        await connection.OpenAsync();
        await using var cut = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name", connection);
        cut.Parameters.AddWithValue("name", $"webhookhub-events-in {WebNode}");
        return Convert.ToInt32(await cut.ExecuteScalarAsync());
    }

    /// <summary>A hub client on a node that keeps every message with the time it arrived, as an external dashboard would.</summary>
    public static async Task<HubListener> ListenAsync(AppProcess node, string apiKey)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(node.BaseAddress, "/hubs/deliveries"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(apiKey))
            .Build();
        var listener = new HubListener(connection);
        foreach (var method in new[] { "attemptRecorded", "deadLettered", "webhookChanged" })
            connection.On<JsonElement>(method, body => listener.Messages.Enqueue(new HubMessage(method, body, DateTimeOffset.UtcNow)));
        connection.On("resync", () => listener.Messages.Enqueue(new HubMessage("resync", default, DateTimeOffset.UtcNow)));
        await connection.StartSubscribedAsync();
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await Web.DisposeAsync();
        await Worker.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); }
        catch (IOException) { } // includes a directory already gone
        await TestDatabase.DropAsync(_data);
    }
}

public sealed record HubMessage(string Method, JsonElement Body, DateTimeOffset ReceivedAt)
{
    public Guid WebhookId => Body.GetProperty("webhookId").GetGuid();
}

public sealed class HubListener(HubConnection connection) : IAsyncDisposable
{
    public ConcurrentQueue<HubMessage> Messages { get; } = new();

    public List<HubMessage> Of(string method) => Messages.Where(m => m.Method == method).ToList();

    public string Describe() => string.Join(", ", Messages.GroupBy(m => m.Method).Select(g => $"{g.Count()} {g.Key}"));

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
