namespace WebhookHub.Core.Sources;

public enum SourceCheckOutcome
{
    /// <summary>The first successful check: its text is the baseline; nothing is reported.</summary>
    Baseline,
    /// <summary>The server answered 304 Not Modified to the conditional GET.</summary>
    NotModified,
    /// <summary>The text after the rules is the same as the last snapshot's.</summary>
    Unchanged,
    /// <summary>The text changed but the trigger text neither appeared nor disappeared: a snapshot, no report.</summary>
    NotTriggered,
    /// <summary>A real change: a snapshot and a policy change.</summary>
    Changed,
    /// <summary>Fetching or extracting failed (see <see cref="SourceCheck.Error"/>).</summary>
    Failed,
}

/// <summary>One check of a source, kept as its history.</summary>
public sealed class SourceCheck
{
    public Guid Id { get; set; }
    public Guid SourceId { get; set; }
    public DateTime StartedAt { get; set; }
    public int DurationMs { get; set; }
    public int? StatusCode { get; set; }
    public SourceCheckOutcome Outcome { get; set; }
    public string? Error { get; set; }
    /// <summary>"scheduled" or "manual".</summary>
    public required string Trigger { get; set; }
    public Guid? SnapshotId { get; set; }
    public Guid? PolicyChangeId { get; set; }
}
