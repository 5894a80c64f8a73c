using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;

namespace WebhookHub.Bench;

/// <summary>
/// The receivers of the <c>nodes</c> mode: one Kestrel on several ports of 127.0.0.1 (each port its own
/// host:port to the hub, so its own connection pool and lane), answering 200 after <c>delay</c> on
/// <c>/slow/…</c> and at once on <c>/fast/…</c>. Counts distinct deliveries (<c>X-Webhook-Delivery</c>) per path
/// kind, notes the last new one, and keeps the time integral of requests in flight, so a phase's mean
/// in-flight count is known (Little's law: deliveries/s ≈ mean in flight / answer time).
/// </summary>
public sealed class NodesReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _delay;
    private readonly ConcurrentDictionary<string, byte> _seen = new();
    private readonly Lock _lock = new();
    private long _requests, _distinct, _lastNewTicks;
    private int _inFlight, _maxInFlight;
    private long _inFlightSince;
    private double _inFlightIntegral;

    private NodesReceiver(WebApplication app, TimeSpan delay)
    {
        _app = app;
        _delay = delay;
    }

    public IReadOnlyList<int> Ports { get; private set; } = [];

    public static async Task<NodesReceiver> StartAsync(int ports, TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            for (var i = 0; i < ports; i++) kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NodesReceiver(app, delay);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.Ports = app.Urls.Select(u => new Uri(u).Port).ToList();
        return receiver;
    }

    /// <summary>A webhook URL: <paramref name="kind"/> is <c>slow</c> or <c>fast</c>; webhook <paramref name="index"/> goes to port index mod ports.</summary>
    public string Url(string kind, int index) => $"http://127.0.0.1:{Ports[index % Ports.Count]}/{kind}/{index}";

    public sealed record Counts(long Requests, long Distinct, long LastNewTicks, int MaxInFlight, double InFlightSeconds);

    public Counts Snapshot()
    {
        lock (_lock)
        {
            Accumulate(Stopwatch.GetTimestamp());
            return new Counts(_requests, _distinct, _lastNewTicks, _maxInFlight, _inFlightIntegral);
        }
    }

    /// <summary>Starts a phase: forgets the peak in flight (the counts only grow; a phase reads their difference).</summary>
    public void ResetPeak()
    {
        lock (_lock) _maxInFlight = _inFlight;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Enter();
        try
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            if (context.Request.Path.StartsWithSegments("/slow")) await Task.Delay(_delay);
            var isNew = _seen.TryAdd(context.Request.Headers["X-Webhook-Delivery"].ToString(), 0);
            lock (_lock)
            {
                _requests++;
                if (isNew)
                {
                    _distinct++;
                    _lastNewTicks = Stopwatch.GetTimestamp();
                }
            }
            context.Response.StatusCode = 200;
        }
        finally { Leave(); }
    }

    private void Enter()
    {
        lock (_lock)
        {
            Accumulate(Stopwatch.GetTimestamp());
            _inFlight++;
            _maxInFlight = Math.Max(_maxInFlight, _inFlight);
        }
    }

    private void Leave()
    {
        lock (_lock)
        {
            Accumulate(Stopwatch.GetTimestamp());
            _inFlight--;
        }
    }

    /// <summary>Adds in-flight × elapsed since the last change (called under the lock).</summary>
    private void Accumulate(long now)
    {
        if (_inFlightSince != 0) _inFlightIntegral += _inFlight * Stopwatch.GetElapsedTime(_inFlightSince, now).TotalSeconds;
        _inFlightSince = now;
    }

    public async Task WaitForDistinctAsync(long count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Interlocked.Read(ref _distinct) < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"The receivers got {Interlocked.Read(ref _distinct)} of {count} deliveries in {timeout.TotalSeconds} s.");
            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
