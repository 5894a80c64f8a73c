namespace WebhookHub.Core.Sources;

/// <param name="Unified">A unified diff (---/+++ headers with the labels, @@ hunks, 3 lines of context).</param>
/// <param name="Summary">Deterministic, e.g. "3 lines added, 1 removed under 'Fees'".</param>
public sealed record TextDiff(string Unified, int Added, int Removed, string Summary);

/// <summary>Line diffs between two snapshots (DiffPlex).</summary>
public static class SnapshotDiff
{
    /// <returns>Null when the texts are equal.</returns>
    public static TextDiff? Compare(string previous, string current, string previousLabel, string currentLabel) => throw new NotImplementedException();
}
