using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Tests.Delivery;

/// <summary>A full fan-out queue says so, and a change it refused is not left marked as queued (the owed sweep must find it).</summary>
public sealed class FanoutDispatcherTests
{
    [Fact]
    public void A_full_queue_refuses_a_change_and_takes_it_once_there_is_room()
    {
        var options = Options.Create(new WebhookHubOptions { Delivery = { FanoutQueueCapacity = 2 } });
        // Not started: nothing reads the queue, so it fills.
        using var dispatcher = new FanoutDispatcher(null!, null!, options, NullLogger<FanoutDispatcher>.Instance);
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid();

        Assert.True(dispatcher.Dispatch(a));
        Assert.True(dispatcher.Dispatch(b));
        Assert.True(dispatcher.Dispatch(a)); // already queued: nothing to add
        Assert.False(dispatcher.Dispatch(c));
        Assert.False(dispatcher.Dispatch(c)); // still refused, not "already queued"
        Assert.Equal(2, dispatcher.Waiting);
    }
}
