using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DiffPlex;
using DiffPlex.Model;

namespace WebhookHub.Core.Sources;

/// <param name="Unified">A unified diff (---/+++ headers with the labels, @@ hunks, 3 lines of context).</param>
/// <param name="Summary">Deterministic, e.g. "3 lines added, 1 removed under 'Fees'".</param>
public sealed record TextDiff(string Unified, int Added, int Removed, string Summary);

/// <summary>Line diffs between two snapshots (DiffPlex).</summary>
public static class SnapshotDiff
{
    public const int ContextLines = 3;
    public const int MaxSectionsNamed = 3;
    private const int MaxSectionNameLength = 60;

    private static readonly Regex Heading = new(@"^#{1,6} (.+)$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Compares two texts line by line. <see cref="TextDiff.Unified"/> is a unified diff: <c>--- previousLabel</c>,
    /// <c>+++ currentLabel</c>, then <c>@@ -a,b +c,d @@</c> hunks with 3 lines of context, every line ending in "\n".
    /// <para>
    /// <see cref="TextDiff.Summary"/> says what changed in one sentence, without a full stop:
    /// "N line(s) changed" when every changed block replaced as many lines as it removed, otherwise
    /// "N line(s) added, M removed" (a zero part left out: "2 lines added", "1 line removed"); then
    /// " under 'A'", " under 'A' and 'B'", " under 'A', 'B' and 'C'" or " under 'A', 'B', 'C' and N more", naming the
    /// sections the changed lines are in: the nearest heading line ("# …" to "###### …") at or above each added line
    /// in the current text, or each removed line in the previous text, in the order the diff meets them. Changes
    /// above the first heading name no section; with no section at all there is no "under" part.
    /// </para>
    /// </summary>
    /// <returns>Null when the texts have the same lines.</returns>
    public static TextDiff? Compare(string previous, string current, string previousLabel, string currentLabel)
    {
        var oldLines = Lines(previous);
        var newLines = Lines(current);
        if (oldLines.SequenceEqual(newLines, StringComparer.Ordinal)) return null;

        var result = Differ.Instance.CreateDiffs(previous, current, ignoreWhiteSpace: false, ignoreCase: false, LineChunker.Instance);
        var ops = Operations(result, oldLines, newLines);
        var added = ops.Count(op => op.Kind == '+');
        var removed = ops.Count(op => op.Kind == '-');
        var sameSize = result.DiffBlocks.All(block => block.DeleteCountA == block.InsertCountB);
        var sections = Sections(ops, SectionOfEachLine(oldLines), SectionOfEachLine(newLines));
        return new TextDiff(Unified(ops, previousLabel, currentLabel), added, removed, Summary(added, removed, sameSize, sections));
    }

    /// <summary>One line of the diff: <paramref name="Old"/> and <paramref name="New"/> are the 0-based line numbers it sits at.</summary>
    private readonly record struct Op(char Kind, int Old, int New, string Text);

    private static string[] Lines(string text)
    {
        var lines = ChangeRules.SplitLines(text);
        // A final newline ends the last line rather than starting an empty one.
        return lines[^1].Length == 0 ? lines[..^1] : lines;
    }

    private static List<Op> Operations(DiffResult result, string[] oldLines, string[] newLines)
    {
        var ops = new List<Op>(oldLines.Length + newLines.Length);
        int a = 0, b = 0;
        foreach (var block in result.DiffBlocks)
        {
            for (; a < block.DeleteStartA; a++, b++) ops.Add(new(' ', a, b, oldLines[a]));
            for (var i = 0; i < block.DeleteCountA; i++, a++) ops.Add(new('-', a, b, oldLines[a]));
            for (var i = 0; i < block.InsertCountB; i++, b++) ops.Add(new('+', a, b, newLines[b]));
        }
        for (; a < oldLines.Length; a++, b++) ops.Add(new(' ', a, b, oldLines[a]));
        return ops;
    }

    private static string Unified(List<Op> ops, string previousLabel, string currentLabel)
    {
        var text = new StringBuilder();
        text.Append("--- ").Append(previousLabel).Append('\n');
        text.Append("+++ ").Append(currentLabel).Append('\n');
        foreach (var (first, last) in Hunks(ops))
        {
            var hunk = ops.GetRange(first, last - first + 1);
            var oldCount = hunk.Count(op => op.Kind != '+');
            var newCount = hunk.Count(op => op.Kind != '-');
            // The unified format numbers lines from 1; an empty range names the line before it.
            var oldStart = oldCount == 0 ? ops[first].Old : ops[first].Old + 1;
            var newStart = newCount == 0 ? ops[first].New : ops[first].New + 1;
            text.Append(CultureInfo.InvariantCulture, $"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@\n");
            foreach (var op in hunk) text.Append(op.Kind).Append(op.Text).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Ranges of <paramref name="ops"/> (first, last index) around the changes; changes closer than twice the context share a hunk.</summary>
    private static List<(int First, int Last)> Hunks(List<Op> ops)
    {
        var hunks = new List<(int First, int Last)>();
        int? start = null;
        var lastChange = 0;
        for (var i = 0; i < ops.Count; i++)
        {
            if (ops[i].Kind == ' ') continue;
            if (start is { } first && i - lastChange - 1 > 2 * ContextLines)
            {
                hunks.Add((first, Math.Min(ops.Count - 1, lastChange + ContextLines)));
                start = null;
            }
            start ??= Math.Max(0, i - ContextLines);
            lastChange = i;
        }
        if (start is { } open) hunks.Add((open, Math.Min(ops.Count - 1, lastChange + ContextLines)));
        return hunks;
    }

    /// <summary>For each line, the text of the nearest heading at or above it; null above the first heading.</summary>
    private static string?[] SectionOfEachLine(string[] lines)
    {
        var sections = new string?[lines.Length];
        string? current = null;
        for (var i = 0; i < lines.Length; i++)
        {
            if (Heading.Match(lines[i]) is { Success: true } heading) current = ShortName(heading.Groups[1].Value.Trim());
            sections[i] = current;
        }
        return sections;
    }

    private static string ShortName(string name) => name.Length <= MaxSectionNameLength ? name : name[..(MaxSectionNameLength - 1)].TrimEnd() + "…";

    private static List<string> Sections(List<Op> ops, string?[] oldSections, string?[] newSections) =>
        ops.Select(op => op.Kind switch
            {
                '-' => oldSections[op.Old],
                '+' => newSections[op.New],
                _ => null,
            })
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();

    private static string Summary(int added, int removed, bool sameSize, List<string> sections)
    {
        var what = sameSize
            ? LineCount(added) + " changed"
            : (added, removed) switch
            {
                (0, _) => LineCount(removed) + " removed",
                (_, 0) => LineCount(added) + " added",
                _ => $"{LineCount(added)} added, {removed.ToString(CultureInfo.InvariantCulture)} removed",
            };
        if (sections.Count == 0) return what;
        var named = sections.Take(MaxSectionsNamed).Select(s => $"'{s}'").ToList();
        var rest = sections.Count - named.Count;
        var list = rest > 0
            ? $"{string.Join(", ", named)} and {rest.ToString(CultureInfo.InvariantCulture)} more"
            : named.Count == 1 ? named[0] : $"{string.Join(", ", named[..^1])} and {named[^1]}";
        return $"{what} under {list}";
    }

    private static string LineCount(int count) => count == 1 ? "1 line" : $"{count.ToString(CultureInfo.InvariantCulture)} lines";

    /// <summary>Lines as <see cref="SnapshotDiff"/> counts them: "\r\n", "\r" or "\n" ends one; no lines in an empty text.</summary>
    private sealed class LineChunker : IChunker
    {
        public static readonly LineChunker Instance = new();

        public IReadOnlyList<string> Chunk(string text) => Lines(text);
    }
}
