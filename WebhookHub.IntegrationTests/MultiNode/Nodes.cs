using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using WebhookHub.Core.Persistence.Postgres;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.MultiNode;

/// <summary>
/// App processes on one data directory, so one PostgreSQL database: <see cref="Web"/> (named <c>web-a</c>) serves
/// the browser, the API and the hub clients; <see cref="Workers"/> (<c>worker-1</c>, <c>worker-2</c>…) claim and make the
/// deliveries. Their roles are <see cref="WebRole"/> and <see cref="WorkerRole"/>.
/// </summary>
public sealed class Nodes : IAsyncDisposable
{
    public const string WebNode = "web-a";

    /// <summary>The web node makes no attempts: every event it shows of a delivery came over the events bridge.</summary>
    public const string WebRole = "Web", WorkerRole = "Worker";

    public static string WorkerNode(int n) => $"worker-{n}";

    private readonly string _data;

    private Nodes(string data, AppProcess web, IReadOnlyList<AppProcess> workers)
    {
        _data = data;
        Web = web;
        Workers = workers;
    }

    public AppProcess Web { get; }
    public IReadOnlyList<AppProcess> Workers { get; }
    public AppProcess Worker => Workers[0];

    /// <summary>Where policy changes are posted: the web node stores them, the workers claim and deliver them.</summary>
    public AppProcess Ingest => Web;

    public string DataDirectory => _data;

    public static async Task<Nodes> StartAsync(int workers = 1)
    {
        var data = Path.Combine(Path.GetTempPath(), "webhookhub-nodes", Guid.NewGuid().ToString("n"));
        // The web node first: it migrates the database and makes the admin; the workers then start together.
        var web = await AppProcess.StartAsync(data, TestDatabase.PrepareProcess(data, Settings(WebNode, WebRole)));
        var starting = Enumerable.Range(1, workers)
            .Select(n => AppProcess.StartAsync(data, TestDatabase.PrepareProcess(data, Settings(WorkerNode(n), WorkerRole)))).ToList();
        try
        {
            return new Nodes(data, web, await Task.WhenAll(starting));
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
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
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name", connection);
        cut.Parameters.AddWithValue("name", $"{PostgresEventBridge.ListenApplicationName} {WebNode}");
        return Convert.ToInt32(await cut.ExecuteScalarAsync());
    }

    /// <summary>Sends a node's process a signal: STOP freezes it (nothing runs, its sockets stay open), CONT resumes it.</summary>
    public static void Signal(AppProcess node, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {node.ProcessId}");
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
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
        foreach (var worker in Workers) await worker.DisposeAsync();
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
