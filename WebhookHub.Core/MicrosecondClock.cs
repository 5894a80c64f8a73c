namespace WebhookHub.Core;

/// <summary>
/// The system clock cut to whole microseconds, PostgreSQL's <c>timestamptz</c> precision: a time the app
/// hands back at once (a created webhook's <c>createdAt</c>) then equals the stored one read later, on
/// either provider.
/// </summary>
public sealed class MicrosecondClock : TimeProvider
{
    public static readonly MicrosecondClock Instance = new();

    public override DateTimeOffset GetUtcNow()
    {
        var now = System.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
