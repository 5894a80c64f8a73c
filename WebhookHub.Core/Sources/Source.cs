namespace WebhookHub.Core.Sources;

/// <summary>
/// A page WebhookHub watches itself: fetched on a schedule, reduced to text by its rules, compared with its
/// last snapshot; a real change becomes a <see cref="Events.PolicyChange"/> on <see cref="Route"/>.
/// </summary>
public sealed class Source
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>https (http only with <c>WebhookHub:Delivery:AllowHttp</c>); the same address policy as webhooks.</summary>
    public required string Url { get; set; }
    public required string Route { get; set; }
    /// <summary>Seconds between checks; used when <see cref="Cron"/> is null.</summary>
    public int IntervalSeconds { get; set; } = 3600;
    /// <summary>A Cronos expression (5 fields, or 6 with seconds), in UTC; wins over <see cref="IntervalSeconds"/>.</summary>
    public string? Cron { get; set; }
    /// <summary>CSS selectors whose text is compared; empty: the page's main content.</summary>
    public List<string> IncludeSelectors { get; set; } = [];
    /// <summary>CSS selectors removed before extraction (cookie banners, "last updated" stamps…).</summary>
    public List<string> ExcludeSelectors { get; set; } = [];
    /// <summary>Regular expressions; a line matching any of them is left out of the comparison.</summary>
    public List<string> IgnorePatterns { get; set; } = [];
    /// <summary>Only report a change when this text appears in, or disappears from, the page; null: every change.</summary>
    public string? TriggerText { get; set; }
    /// <summary>Extra request headers (e.g. Accept-Language, a cookie for a consent wall). Not secret-safe: shown to admins.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];
    public bool IsActive { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // What the last checks left behind (written by the checker, never by the form).

    /// <summary>The snapshot the next check compares with; null until the first successful check (the baseline).</summary>
    public Guid? LatestSnapshotId { get; set; }
    /// <summary>Validators from the last 200, sent back as If-None-Match / If-Modified-Since.</summary>
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    public DateTime? LastCheckedAt { get; set; }
    public DateTime? NextCheckAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public int ConsecutiveFailures { get; set; }
}
