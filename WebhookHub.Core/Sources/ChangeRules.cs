namespace WebhookHub.Core.Sources;

/// <summary>What counts as a change: ignored lines and whitespace are not; a trigger text narrows it further.</summary>
public static class ChangeRules
{
    /// <summary>The text as compared: whitespace collapsed, blank lines and lines matching an ignore pattern dropped.</summary>
    public static string Apply(string text, IReadOnlyList<string> ignorePatterns) => throw new NotImplementedException();

    /// <summary>Null when <paramref name="pattern"/> is a usable regular expression; otherwise why not.</summary>
    public static string? PatternError(string pattern) => throw new NotImplementedException();

    /// <summary>True when there is no trigger, or the trigger text appears in one text and not in the other.</summary>
    public static bool Triggered(string? triggerText, string previous, string current) => throw new NotImplementedException();
}
