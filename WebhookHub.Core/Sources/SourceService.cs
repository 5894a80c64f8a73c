namespace WebhookHub.Core.Sources;

/// <summary>What a client sends to create or replace a source; null lists mean none, a null interval the default.</summary>
public sealed record SourceInput(
    string? Name, string? Url, string? Route, int? IntervalSeconds = null, string? Cron = null,
    IReadOnlyList<string?>? IncludeSelectors = null, IReadOnlyList<string?>? ExcludeSelectors = null,
    IReadOnlyList<string?>? IgnorePatterns = null, string? TriggerText = null,
    IReadOnlyDictionary<string, string?>? Headers = null, bool? IsActive = null);

/// <summary>What a request about one source came to; the API turns each case into one status code.</summary>
public abstract record SourceOutcome
{
    private SourceOutcome() { }

    public sealed record Done(Source Source) : SourceOutcome;

    public sealed record NotFound : SourceOutcome;

    /// <param name="Errors">Field name (as in the JSON body) → what is wrong with it.</param>
    public sealed record Invalid(IReadOnlyDictionary<string, string> Errors) : SourceOutcome;
}

/// <summary>One fetch with a form's rules, stored nowhere: the text a check would compare.</summary>
public sealed record SourcePreview(int? StatusCode, string? Text, string? Error);

/// <summary>
/// Sources in and out: validation (the same sentences for the API's 400 and the form), the check schedule kept in
/// step with each save, previews, and a source's check history and snapshots, newest first.
/// </summary>
public sealed class SourceService
{
    public const int MaxNameLength = 200;
    public const int MaxRouteLength = 200;
    public const int MaxUrlLength = 2048;
    public const int MaxRules = 50;

    public Task<List<Source>> ListAsync(CancellationToken ct = default) => throw new NotImplementedException();

    public Task<Source?> GetAsync(Guid id, CancellationToken ct = default) => throw new NotImplementedException();

    public Task<SourceOutcome> CreateAsync(SourceInput input, CancellationToken ct = default) => throw new NotImplementedException();

    public Task<SourceOutcome> UpdateAsync(Guid id, SourceInput input, CancellationToken ct = default) => throw new NotImplementedException();

    /// <summary>Deletes the source with its checks and snapshots; the policy changes it reported stay.</summary>
    public Task<SourceOutcome> DeleteAsync(Guid id, CancellationToken ct = default) => throw new NotImplementedException();

    /// <summary>Validates the input's URL and rules, fetches once, and extracts: Invalid, or the preview.</summary>
    public Task<(IReadOnlyDictionary<string, string>? Errors, SourcePreview? Preview)> PreviewAsync(SourceInput input, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<(List<SourceCheck> Items, int Total)> ChecksAsync(Guid sourceId, int skip, int take, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Snapshots newest first, without their text (it can be large).</summary>
    public Task<(List<SnapshotListItem> Items, int Total)> SnapshotsAsync(Guid sourceId, int skip, int take, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<SourceSnapshot?> SnapshotAsync(Guid sourceId, Guid snapshotId, CancellationToken ct = default) => throw new NotImplementedException();
}

public sealed record SnapshotListItem(Guid Id, DateTime TakenAt, string ContentHash, int Length);
