using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Persistence.Postgres;

/// <summary>
/// Carries the shown delivery events (<see cref="IDeliveryEvent"/>) between the nodes that share one PostgreSQL
/// database, so that every node's dashboards, <c>/hubs/deliveries</c> clients and dead-letter page see every
/// node's attempts. Out: what this node publishes goes out by <c>pg_notify</c>, a recorded batch in one NOTIFY
/// (more when it is over PostgreSQL's 8,000 bytes, <see cref="EventPayloads"/>), whatever piled up during the
/// previous NOTIFY in the next. In: one connection LISTENs, drops its own node's events and raises the others'
/// on the notifier as remote (<see cref="DeliveryNotifier.PublishRemote"/>: shown, not counted in this node's
/// metrics). A lost listener reconnects with backoff and then tells the subscribers to reload
/// (<see cref="DeliveryNotifier.Resynced"/>): whatever was committed meanwhile is in the database, not in a NOTIFY.
/// </summary>
public sealed partial class PostgresEventBridge : BackgroundService
{
    public const string ChannelName = "webhookhub_events";

    /// <summary>The listener's <c>application_name</c>, then a space and the node (PostgreSQL keeps the first 63 bytes).</summary>
    public const string ListenApplicationName = "webhookhub-events-in";

    public const string SendApplicationName = "webhookhub-events-out";

    /// <summary>A quiet connection is not proof it lives (a cut network says nothing), so the listener asks this often.</summary>
    public static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private const int SendTries = 3;

    private readonly DeliveryNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresEventBridge> _log;
    private readonly string _node;
    private readonly string _sendConnectionString;
    private readonly string _listenConnectionString;

    /// <summary>This node's events waiting for their NOTIFY; bounded so a database that does not answer cannot eat memory.</summary>
    private readonly Channel<IReadOnlyList<IDeliveryEvent>> _outbox;

    public PostgresEventBridge(string connectionString, DeliveryNotifier notifier, IOptions<WebhookHubOptions> options, TimeProvider time,
        ILogger<PostgresEventBridge> log)
    {
        _notifier = notifier;
        _time = time;
        _log = log;
        _node = options.Value.Node;
        if (_node.Length > EventPayloads.MaxNodeLength)
            throw new InvalidOperationException($"WebhookHub:NodeId is longer than {EventPayloads.MaxNodeLength} characters.");
        // Pools of their own (a pool is per connection string): a busy app's pool never holds up an event, nor the reverse.
        // Named by node, so pg_stat_activity says whose they are.
        _sendConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
            { ApplicationName = $"{SendApplicationName} {_node}", MaxPoolSize = 2 }.ConnectionString;
        // Not pooled: a broken listener is thrown away, never handed back.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
            { ApplicationName = $"{ListenApplicationName} {_node}", Pooling = false }.ConnectionString;
        _outbox = Channel.CreateBounded<IReadOnlyList<IDeliveryEvent>>(
            new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped => LogDropped(dropped.Count));
    }

    public override Task StartAsync(CancellationToken ct)
    {
        _notifier.PublishedHere += Enqueue;
        return base.StartAsync(ct);
    }

    public override Task StopAsync(CancellationToken ct)
    {
        _notifier.PublishedHere -= Enqueue;
        _outbox.Writer.TryComplete();
        return base.StopAsync(ct);
    }

    private void Enqueue(IReadOnlyList<IDeliveryEvent> events) => _outbox.Writer.TryWrite(events);

    protected override Task ExecuteAsync(CancellationToken ct) => Task.WhenAll(SendAsync(ct), ListenAsync(ct));

    private async Task SendAsync(CancellationToken ct)
    {
        var waiting = new List<IDeliveryEvent>();
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(ct))
            {
                // No waiting to gather more: when quiet a batch goes at once; under load what arrived during one NOTIFY goes in the next.
                while (_outbox.Reader.TryRead(out var events)) waiting.AddRange(events);
                await NotifyAsync(EventPayloads.Encode(_node, waiting), ct);
                waiting.Clear();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>One statement a payload, each its own transaction: PostgreSQL folds identical payloads within one.</summary>
    private async Task NotifyAsync(List<string> payloads, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_sendConnectionString);
                await connection.OpenAsync(ct);
                await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
                var channel = notify.Parameters.AddWithValue("channel", ChannelName);
                var payload = notify.Parameters.AddWithValue("payload", "");
                foreach (var text in payloads)
                {
                    payload.Value = text;
                    await notify.ExecuteNonQueryAsync(ct);
                }
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Other nodes then miss these until their dashboards' minute reload; their own listeners reconnect (and reload) if the database went away.
                if (attempt == SendTries)
                {
                    LogSendFailed(e, payloads.Count);
                    return;
                }
                await Task.Delay(FirstBackoff * attempt, _time, ct);
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var backoff = FirstBackoff;
        var gap = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                connection.Notification += OnNotification;
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection)) await listen.ExecuteNonQueryAsync(ct);
                if (gap)
                {
                    // Listening again, so from here nothing is missed; what was committed during the gap the reload reads.
                    LogListening(_node);
                    _notifier.PublishResync();
                }
                gap = false;
                backoff = FirstBackoff;
                await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 5 };
                while (true)
                    if (!await connection.WaitAsync(PingEvery, ct)) await ping.ExecuteScalarAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                if (!gap) LogListenerLost(e);
                gap = true;
                try { await Task.Delay(backoff, _time, ct); }
                catch (OperationCanceledException) { return; }
                backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
            }
        }
    }

    /// <summary>Raised on the listener's loop, one NOTIFY at a time, in the order they were committed.</summary>
    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        try
        {
            var (node, events) = EventPayloads.Decode(e.Payload);
            if (node != _node && events.Count > 0) _notifier.PublishRemote(events);
        }
        catch (Exception ex)
        {
            LogUnreadable(ex, e.Payload.Length);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Events bridge: lost the LISTEN connection; reconnecting, then every dashboard reloads")]
    private partial void LogListenerLost(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Events bridge: node {Node} is listening again; live views reload from the database")]
    private partial void LogListening(string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Events bridge: could not send {Payloads} NOTIFY payloads; other nodes see these events at their next reload")]
    private partial void LogSendFailed(Exception ex, int payloads);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Events bridge: outbox full, dropped {Events} events")]
    private partial void LogDropped(int events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Events bridge: skipped an unreadable NOTIFY payload of {Length} characters")]
    private partial void LogUnreadable(Exception ex, int length);
}
