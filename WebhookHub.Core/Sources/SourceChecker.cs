namespace WebhookHub.Core.Sources;

/// <summary>What one check came to, as <c>POST /api/sources/{id}/check</c> answers it.</summary>
public sealed record SourceCheckResult(SourceCheckOutcome Outcome, bool Changed, Guid? PolicyChangeId, int? StatusCode, string? Error);

/// <summary>
/// One check of one source: conditional GET → text by the source's rules → compare with the latest snapshot →
/// on a real change a new snapshot and a policy change through <see cref="Events.PolicyChangeService"/>.
/// Records a <see cref="SourceCheck"/> either way and sets when the next check is due.
/// </summary>
public sealed class SourceChecker
{
    /// <param name="trigger">"scheduled" or "manual".</param>
    /// <returns>Null when there is no such source.</returns>
    public Task<SourceCheckResult?> CheckAsync(Guid sourceId, string trigger, CancellationToken ct = default) => throw new NotImplementedException();
}
