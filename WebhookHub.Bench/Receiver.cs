using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using System.Diagnostics;
using System.Text;

namespace WebhookHub.Bench;

/// <summary>
/// The receiving end every measurement shares: Kestrel on 127.0.0.1, reads the whole body, answers 200,
/// and notes when each policy change (by its id in the body) first arrived.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private static readonly byte[] IdMarker = Encoding.UTF8.GetBytes("\"policyChangeId\":\"");
    private readonly WebApplication _app;
    private long _count;

    private Receiver(WebApplication app) => _app = app;

    public long Count => Interlocked.Read(ref _count);
    public long LastReceiptTicks { get; private set; }
    public ConcurrentDictionary<Guid, long> FirstReceiptByChange { get; } = new();

    public string Url(string path) => _app.Urls.First() + path;

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _count, 0);
        FirstReceiptByChange.Clear();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var now = Stopwatch.GetTimestamp();
        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var at = body.IndexOf(IdMarker);
        if (at >= 0 && Guid.TryParse(Encoding.UTF8.GetString(body.Slice(at + IdMarker.Length, 36)), out var id))
            FirstReceiptByChange.TryAdd(id, now);
        LastReceiptTicks = now;
        Interlocked.Increment(ref _count);
        context.Response.StatusCode = 200;
    }

    public async Task WaitForCountAsync(long count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Count < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"Receiver got {Count} of {count} requests in {timeout.TotalSeconds} s.");
            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
