using System.Text.RegularExpressions;

namespace WebhookHub.Core.Sources;

/// <summary>What counts as a change: ignored lines and whitespace are not; a trigger text narrows it further.</summary>
public static class ChangeRules
{
    /// <summary>How long one ignore pattern may take on one line: a pattern that backtracks badly must not stall a check.</summary>
    public static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    private static readonly Regex Whitespace = new(@"\s+", RegexOptions.CultureInvariant);

    /// <summary>
    /// The text as compared: each line trimmed with runs of whitespace collapsed to one space, blank lines dropped,
    /// and lines matching any ignore pattern dropped (case-sensitive unless the pattern says <c>(?i)</c>). Invalid
    /// patterns are skipped (<see cref="PatternError"/> keeps them out when a source is saved); a line whose match
    /// times out is kept.
    /// </summary>
    public static string Apply(string text, IReadOnlyList<string> ignorePatterns)
    {
        var ignore = ignorePatterns.Select(Compile).OfType<Regex>().ToList();
        var lines = SplitLines(text)
            .Select(Collapse)
            .Where(line => line.Length > 0 && !ignore.Any(pattern => IsMatch(pattern, line)));
        return string.Join('\n', lines);
    }

    /// <summary>Null when <paramref name="pattern"/> is a usable regular expression; otherwise why not.</summary>
    public static string? PatternError(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return "Pattern is empty";
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"Not a valid regular expression: {e.Message}";
        }
    }

    /// <summary>
    /// True when there is no trigger (null or blank), or the trigger text appears in exactly one of the two texts
    /// (case-insensitive, whitespace in the trigger collapsed as in <see cref="Apply"/>).
    /// </summary>
    public static bool Triggered(string? triggerText, string previous, string current)
    {
        if (string.IsNullOrWhiteSpace(triggerText)) return true;
        var trigger = Collapse(triggerText);
        return previous.Contains(trigger, StringComparison.OrdinalIgnoreCase) != current.Contains(trigger, StringComparison.OrdinalIgnoreCase);
    }

    internal static string Collapse(string line) => Whitespace.Replace(line, " ").Trim();

    internal static string[] SplitLines(string text) => text.ReplaceLineEndings("\n").Split('\n');

    private static Regex? Compile(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return null;
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsMatch(Regex pattern, string line)
    {
        try
        {
            return pattern.IsMatch(line);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
