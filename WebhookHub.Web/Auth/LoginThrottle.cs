using System.Threading.RateLimiting;

namespace WebhookHub.Web.Auth;

/// <summary><c>WebhookHub:Login</c>: how many failed sign-ins a client address and an account may have per window.</summary>
public sealed class LoginLimits
{
    public int FailuresPerAddress { get; set; } = 10;

    /// <summary>Higher than per address, so one address alone cannot keep an account's owner out.</summary>
    public int FailuresPerAccount { get; set; } = 30;

    public int WindowSeconds { get; set; } = 300;
}

/// <summary>
/// Fixed-window limits on failed sign-ins, by client address and by account. A sign-in is refused
/// (429 with Retry-After) only while either window is spent; a correct password costs nothing, and
/// nothing locks an account beyond the window (Identity's lockout is off: five wrong passwords every
/// five minutes from anyone would otherwise keep the admin out forever).
/// </summary>
public sealed class LoginThrottle(LoginLimits limits) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _windows = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = key.StartsWith("ip:", StringComparison.Ordinal) ? limits.FailuresPerAddress : limits.FailuresPerAccount,
            Window = TimeSpan.FromSeconds(limits.WindowSeconds),
            QueueLimit = 0,
        }));

    /// <summary>Null when a sign-in may be tried; otherwise how long the client must wait.</summary>
    public TimeSpan? RetryAfter(string? address, string account)
    {
        foreach (var key in Keys(address, account))
        {
            // Zero permits asks "is anything left in this window?" without spending it.
            using var probe = _windows.AttemptAcquire(key, 0);
            if (!probe.IsAcquired)
                return probe.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(limits.WindowSeconds);
        }
        return null;
    }

    public void Failed(string? address, string account)
    {
        foreach (var key in Keys(address, account))
            _windows.AttemptAcquire(key).Dispose();
    }

    private static string[] Keys(string? address, string account) =>
        ["ip:" + address, "account:" + account.Trim().ToUpperInvariant()];

    public void Dispose() => _windows.Dispose();
}
