using Microsoft.AspNetCore.SignalR.Client;

namespace WebhookHub.IntegrationTests.Infrastructure;

public static class HubClient
{
    /// <summary>
    /// Starts the connection and waits for the hub's <c>subscribed</c> message: SignalR completes a client's
    /// start before the server's <c>OnConnectedAsync</c> has put the connection in its group (and in the
    /// list revocations abort), so an event or a revocation right after the start could miss it.
    /// </summary>
    public static async Task StartSubscribedAsync(this HubConnection connection)
    {
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var handler = connection.On("subscribed", (object _) => subscribed.TrySetResult());
        await connection.StartAsync();
        await subscribed.Task.WaitAsync(Eventually.DefaultTimeout);
    }
}
