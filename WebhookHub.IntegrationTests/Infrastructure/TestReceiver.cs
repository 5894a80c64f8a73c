using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>One request as the receiver saw it.</summary>
public sealed record ReceivedRequest(DateTimeOffset At, string Method, string Path, Dictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";
}

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (Kestrel) that records every request and answers as the test
/// says: by default 200; <see cref="Respond"/> sets a function of the request number (1-based).
/// </summary>
public sealed class TestReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _count;
    private Func<int, ReceivedRequest, Task<IResult>> _respond = (_, _) => Task.FromResult(Results.Ok());

    private TestReceiver(WebApplication app) => _app = app;

    /// <param name="port">0 for any free port; a fixed one brings a receiver back where a stopped one was (an outage that ends).</param>
    public static async Task<TestReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new TestReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public string BaseUrl => _app.Urls.First();

    public int Port => new Uri(BaseUrl).Port;

    /// <summary>A URL on this receiver; the path lets one receiver stand in for several webhooks.</summary>
    public string Url(string path = "/hook") => BaseUrl + path;

    public IReadOnlyList<ReceivedRequest> Requests => _requests.ToArray();

    public IEnumerable<ReceivedRequest> RequestsTo(string path) => _requests.Where(r => r.Path == path);

    public void Respond(Func<int, ReceivedRequest, IResult> respond) => _respond = (n, r) => Task.FromResult(respond(n, r));

    public void RespondAsync(Func<int, ReceivedRequest, Task<IResult>> respond) => _respond = respond;

    /// <summary>Waits until <paramref name="predicate"/> holds for the recorded requests (see <see cref="Eventually"/>), and returns them.</summary>
    public Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(Func<IReadOnlyList<ReceivedRequest>, bool> predicate, TimeSpan? timeout = null,
        string what = "the expected requests at the receiver") =>
        Eventually.Matches(() => Task.FromResult(Requests), predicate, what, timeout, Describe);

    /// <summary>What a failed wait prints: how many requests, and the last few by path and attempt number.</summary>
    private static string Describe(IReadOnlyList<ReceivedRequest> requests) =>
        $"{requests.Count} requests" + (requests.Count == 0 ? "" : ", the last: "
            + string.Join(", ", requests.TakeLast(10).Select(r => $"{r.Method} {r.Path} attempt {r.Header("x-webhook-attempt")} at {r.At:HH:mm:ss.fff}")));

    public Task<IReadOnlyList<ReceivedRequest>> WaitForCountAsync(int count, TimeSpan? timeout = null) =>
        WaitForAsync(r => r.Count >= count, timeout, $"{count} requests at the receiver");

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var request = new ReceivedRequest(
            DateTimeOffset.UtcNow,
            context.Request.Method,
            context.Request.Path.Value ?? "/",
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            buffer.ToArray());
        _requests.Enqueue(request);
        var number = Interlocked.Increment(ref _count);
        var result = await _respond(number, request);
        await result.ExecuteAsync(context);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
