namespace WebhookHub.Core.Sources;

/// <summary>The compared text of a source at one time; a new one is stored only when the text differs from the latest.</summary>
public sealed class SourceSnapshot
{
    public Guid Id { get; set; }
    public Guid SourceId { get; set; }
    public DateTime TakenAt { get; set; }
    /// <summary>SHA-256 (lower hex) of <see cref="Text"/>.</summary>
    public required string ContentHash { get; set; }
    public required string Text { get; set; }
}
