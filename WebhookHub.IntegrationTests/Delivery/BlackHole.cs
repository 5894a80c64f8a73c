using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace WebhookHub.IntegrationTests.Delivery;

/// <summary>
/// A receiver that accepts TCP connections on 127.0.0.1 and never answers: the worst neighbour, since every
/// request to it lasts the whole timeout. Counts connections so a test can see when nothing is sent.
/// </summary>
public sealed class BlackHole : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    public BlackHole()
    {
        _listener.Start(backlog: 1024);
        _accepting = AcceptAsync();
    }

    public string Url(string path = "/hole") => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}";

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                _held.Add(await _listener.AcceptTcpClientAsync(_stop.Token));
                Interlocked.Increment(ref _connections);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _held) client.Dispose();
        await _accepting;
    }
}
