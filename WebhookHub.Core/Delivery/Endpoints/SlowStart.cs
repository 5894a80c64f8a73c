namespace WebhookHub.Core.Delivery.Endpoints;

/// <summary>
/// The redrive's pace (AIMD, as TCP's congestion window): start at <c>initial</c> a second, double after
/// each second in which every answer was a 2xx within <c>slowAfter</c>, halve (not below the start)
/// after a second with an error, a 429 or a slow answer. Pure logic: the caller says when a second ends.
/// </summary>
public sealed class SlowStart(double initial, double max, TimeSpan slowAfter)
{
    private readonly double _initial = Math.Max(0.1, initial);
    private readonly double _max = Math.Max(Math.Max(0.1, initial), max);
    private int _good;
    private bool _trouble;

    public double PerSecond { get; private set; } = Math.Max(0.1, initial);

    /// <summary>How many to send in the coming second (at least one).</summary>
    public int Batch => Math.Max(1, (int)Math.Floor(PerSecond));

    public void Observe(AttemptStatus status, long durationMs)
    {
        if (status == AttemptStatus.Success && durationMs <= slowAfter.TotalMilliseconds) _good++;
        else _trouble = true;
    }

    /// <summary>Ends the second: doubles or halves the rate by what it saw, and returns the new rate.</summary>
    public double EndSecond()
    {
        if (_trouble) PerSecond = Math.Max(_initial, PerSecond / 2);
        else if (_good > 0) PerSecond = Math.Min(_max, PerSecond * 2);
        _good = 0;
        _trouble = false;
        return PerSecond;
    }
}
