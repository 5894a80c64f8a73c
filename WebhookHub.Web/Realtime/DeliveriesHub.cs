using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using WebhookHub.Web.Api;

namespace WebhookHub.Web.Realtime;

/// <summary>
/// <c>/hubs/deliveries</c>: delivery events for external dashboards and scripts. Clients only listen
/// (<see cref="AttemptRecordedMethod"/>, <see cref="DeadLetteredMethod"/>, <see cref="WebhookChangedMethod"/>);
/// which events reach a connection is decided by the group it joins here, once, from its roles.
/// </summary>
[Authorize]
public sealed class DeliveriesHub(HubConnections connections) : Hub
{
    public const string Path = "/hubs/deliveries";
    public const string AttemptRecordedMethod = "attemptRecorded";
    public const string DeadLetteredMethod = "deadLettered";
    public const string WebhookChangedMethod = "webhookChanged";
    /// <summary>An endpoint's circuit opened, went half-open (probing) or closed.</summary>
    public const string CircuitChangedMethod = "circuitChanged";
    /// <summary>A recovered endpoint's redrive moved on (once a second while it runs, and when it ends).</summary>
    public const string RedriveProgressMethod = "redriveProgress";

    /// <summary>
    /// Sent to a new connection once it has joined its group. SignalR completes a client's start before the
    /// server's <c>OnConnectedAsync</c> has run, so an event published in between would not reach it; a
    /// client that must not miss the first events waits for this one.
    /// </summary>
    public const string SubscribedMethod = "subscribed";

    /// <summary>
    /// Events may have been missed (several nodes: this node's events bridge lost its database connection and is
    /// back): a client that keeps totals from events reads them again from the API. No arguments.
    /// </summary>
    public const string ResyncMethod = "resync";

    /// <summary>Admins and operators look after every webhook, so they share one group.</summary>
    public const string StaffGroup = "staff";

    /// <summary>A customer's connections: the events of the webhooks that user owns.</summary>
    public static string OwnerGroup(string userId) => "owner:" + userId;

    public override async Task OnConnectedAsync()
    {
        var user = Context.User ?? throw new HubException("Not signed in.");
        var group = user.SeesEverything() ? StaffGroup : OwnerGroup(user.Id());
        await Groups.AddToGroupAsync(Context.ConnectionId, group);
        connections.Add(Context, user);
        await base.OnConnectedAsync();
        await Clients.Caller.SendAsync(SubscribedMethod, new { events = group == StaffGroup ? "all webhooks" : "your webhooks" });
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Remove(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}
