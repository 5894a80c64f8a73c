namespace WebhookHub.Core.Sources;

/// <param name="Text">Normalised text, one block per line, headings as Markdown-style "## Heading" lines.</param>
public sealed record ExtractResult(string? Text, string? Error);

/// <summary>A fetched body (HTML, plain text or PDF) → the text a source compares.</summary>
public static class TextExtractor
{
    public static ExtractResult Extract(byte[] body, string? contentType, IReadOnlyList<string> includeSelectors, IReadOnlyList<string> excludeSelectors) =>
        throw new NotImplementedException();

    /// <summary>Null when <paramref name="selector"/> is a valid CSS selector; otherwise why not.</summary>
    public static string? SelectorError(string selector) => throw new NotImplementedException();
}
