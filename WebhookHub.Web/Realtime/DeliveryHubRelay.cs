using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Delivery.Endpoints;
using WebhookHub.Core.Persistence;

namespace WebhookHub.Web.Realtime;

/// <summary>
/// Forwards <see cref="DeliveryNotifier"/> events to <see cref="DeliveriesHub"/>: to the staff group and
/// to the owner's group. The notifier raises events on the delivery job's thread; a channel hands them
/// to one sending loop so a slow client or an owner lookup never holds up a delivery. On several nodes the
/// notifier also raises the other nodes' events, so a client gets every node's events from whichever node it is on.
/// </summary>
public sealed partial class DeliveryHubRelay(
    DeliveryNotifier notifier,
    IHubContext<DeliveriesHub> hub,
    IServiceScopeFactory scopes,
    ILogger<DeliveryHubRelay> log) : BackgroundService
{
    /// <summary>Bounded so a stalled hub cannot eat memory; the oldest events go first, and are logged.</summary>
    private readonly Channel<object> _events = Channel.CreateBounded<object>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        dropped => log.LogWarning("Realtime relay queue full; dropped a {EventType}", dropped.GetType().Name));

    /// <summary>A webhook's owner never changes, so it is looked up once per webhook.</summary>
    private readonly ConcurrentDictionary<Guid, string> _owners = new();

    public override Task StartAsync(CancellationToken ct)
    {
        notifier.AttemptRecorded += Enqueue;
        notifier.DeadLettered += Enqueue;
        notifier.WebhookChanged += Enqueue;
        notifier.CircuitChanged += Enqueue;
        notifier.RedriveProgressed += Enqueue;
        notifier.Resynced += EnqueueResync;
        return base.StartAsync(ct);
    }

    public override Task StopAsync(CancellationToken ct)
    {
        notifier.AttemptRecorded -= Enqueue;
        notifier.DeadLettered -= Enqueue;
        notifier.WebhookChanged -= Enqueue;
        notifier.CircuitChanged -= Enqueue;
        notifier.RedriveProgressed -= Enqueue;
        notifier.Resynced -= EnqueueResync;
        _events.Writer.TryComplete();
        return base.StopAsync(ct);
    }

    private void Enqueue(object e) => _events.Writer.TryWrite(e);

    /// <summary>In the same queue as the events, so a client gets it after the events sent before the gap.</summary>
    private void EnqueueResync() => _events.Writer.TryWrite(Resync.Instance);

    private sealed class Resync
    {
        public static readonly Resync Instance = new();
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(ct))
        {
            try
            {
                if (e is Resync)
                {
                    await hub.Clients.All.SendAsync(DeliveriesHub.ResyncMethod, ct);
                    continue;
                }
                var (webhookId, method) = e switch
                {
                    AttemptRecorded a => (a.WebhookId, DeliveriesHub.AttemptRecordedMethod),
                    DeliveryDeadLettered d => (d.WebhookId, DeliveriesHub.DeadLetteredMethod),
                    WebhookStateChanged w => (w.WebhookId, DeliveriesHub.WebhookChangedMethod),
                    CircuitChanged c => (c.WebhookId, DeliveriesHub.CircuitChangedMethod),
                    RedriveProgress r => (r.WebhookId, DeliveriesHub.RedriveProgressMethod),
                    _ => throw new InvalidOperationException($"Unknown delivery event {e.GetType().Name}."),
                };
                if (e is WebhookStateChanged changed) _owners.TryAdd(changed.WebhookId, changed.OwnerId);
                var owner = await OwnerAsync(webhookId, ct);
                IReadOnlyList<string> groups = owner is null
                    ? [DeliveriesHub.StaffGroup]
                    : [DeliveriesHub.StaffGroup, DeliveriesHub.OwnerGroup(owner)];
                await hub.Clients.Groups(groups).SendAsync(method, e, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRelayFailed(ex, e.GetType().Name);
            }
        }
    }

    private async Task<string?> OwnerAsync(Guid webhookId, CancellationToken ct)
    {
        if (_owners.TryGetValue(webhookId, out var owner)) return owner;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        owner = await db.Webhooks.Where(w => w.Id == webhookId).Select(w => w.UserId).FirstOrDefaultAsync(ct);
        if (owner is not null) _owners.TryAdd(webhookId, owner);
        return owner;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not relay a {EventType} to the deliveries hub")]
    private partial void LogRelayFailed(Exception ex, string eventType);
}
