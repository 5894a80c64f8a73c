using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Css.Parser;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace WebhookHub.Core.Sources;

/// <param name="Text">Normalised text, one block per line, headings as Markdown-style "## Heading" lines.</param>
public sealed record ExtractResult(string? Text, string? Error);

/// <summary>
/// A fetched body (HTML, plain text or PDF) → the text a source compares.
/// <para>
/// The charset is, in order: a byte order mark, the Content-Type's charset, a <c>&lt;meta charset&gt;</c> (or
/// http-equiv) in the first 4 KB of HTML, else UTF-8 when the bytes are valid UTF-8, else windows-1252.
/// </para>
/// <para>
/// HTML: script, style, noscript, template, svg and iframe elements and the exclude selectors are removed. With
/// include selectors the text is that of every element they match, in document order (each selector must match
/// something); without, the page's main content: <c>main</c>, else <c>[role=main]</c>, else the one
/// <c>article</c>, else <c>body</c> without <c>nav</c>, <c>header</c>, <c>footer</c> and <c>aside</c>. Block
/// elements start a new line, inline text joins with single spaces, headings become "## Heading" lines (as many
/// '#' as the level), list items "- item" lines, table rows their cells joined with " | ".
/// </para>
/// <para>Plain text (any text/* but HTML) is decoded and passes through. PDF: PdfPig's text of each page, in content order, line by line.</para>
/// </summary>
public static class TextExtractor
{
    private const int MetaScanBytes = 4096;

    private const string NeverText = "script, style, noscript, template, svg, iframe";

    private static readonly string[] PageChrome = ["nav", "header", "footer", "aside"];

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "legend", "main", "menu", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "ul",
    };

    private static readonly Regex MetaCharset = new(
        """<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static TextExtractor() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static ExtractResult Extract(byte[] body, string? contentType, IReadOnlyList<string> includeSelectors, IReadOnlyList<string> excludeSelectors)
    {
        MediaTypeHeaderValue.TryParse(contentType, out var header);
        var mediaType = header?.MediaType?.ToLowerInvariant();
        var charset = header?.CharSet?.Trim('"', '\'', ' ');

        if (mediaType == "application/pdf" || body.AsSpan().StartsWith("%PDF"u8)) return Pdf(body);
        // Servers that do not say, or say only "bytes", are sniffed the cheap way.
        if (mediaType is null or "application/octet-stream") mediaType = LooksLikeMarkup(body) ? "text/html" : "text/plain";
        if (mediaType is "text/html" or "application/xhtml+xml")
            return Html(Decode(body, charset, scanMeta: true), includeSelectors, excludeSelectors);
        if (mediaType.StartsWith("text/", StringComparison.Ordinal))
            return Done(Decode(body, charset, scanMeta: false).ReplaceLineEndings("\n").TrimEnd('\n'));
        return new ExtractResult(null, $"unsupported content type {mediaType}");
    }

    /// <summary>Null when <paramref name="selector"/> is a valid CSS selector; otherwise why not.</summary>
    public static string? SelectorError(string selector)
    {
        if (string.IsNullOrWhiteSpace(selector)) return "Selector is empty";
        return new CssSelectorParser().ParseSelector(selector) is null ? $"'{selector}' is not a valid CSS selector" : null;
    }

    private static ExtractResult Done(string text) =>
        string.IsNullOrWhiteSpace(text)
            // An empty page is far more often a failed render (a JavaScript app, a blank error page) than a policy
            // that vanished; as text it would be reported as every line removed.
            ? new ExtractResult(null, "the page has no text (is it built by JavaScript?)")
            : new ExtractResult(text, null);

    private static ExtractResult Html(string html, IReadOnlyList<string> includeSelectors, IReadOnlyList<string> excludeSelectors)
    {
        if (includeSelectors.Concat(excludeSelectors).FirstOrDefault(s => SelectorError(s) is not null) is { } invalid)
            return new ExtractResult(null, SelectorError(invalid));

        var document = new HtmlParser().ParseDocument(html);
        Remove(document.QuerySelectorAll(NeverText));
        foreach (var selector in excludeSelectors) Remove(document.QuerySelectorAll(selector));

        IReadOnlyList<IElement> roots;
        if (includeSelectors.Count > 0)
        {
            if (includeSelectors.FirstOrDefault(s => document.QuerySelector(s) is null) is { } unmatched)
                return new ExtractResult(null, $"no element matches '{unmatched}'");
            // One selector group gives document order without duplicates; an element inside another match is already in its text.
            var matches = document.QuerySelectorAll(string.Join(", ", includeSelectors));
            var matched = matches.ToHashSet();
            roots = matches.Where(m => !Ancestors(m).Any(matched.Contains)).ToList();
        }
        else
        {
            roots = MainContent(document) is { } main ? [main] : [];
        }

        var writer = new LineWriter();
        foreach (var root in roots)
        {
            writer.Break();
            Write(root, writer);
        }
        return Done(writer.ToString());
    }

    private static IElement? MainContent(IDocument document)
    {
        if ((document.QuerySelector("main") ?? document.QuerySelector("[role=main]")) is { } main) return main;
        var articles = document.QuerySelectorAll("article");
        if (articles.Length == 1) return articles[0];
        if (document.Body is not { } body) return null;
        Remove(body.QuerySelectorAll(string.Join(", ", PageChrome)));
        return body;
    }

    private static IEnumerable<IElement> Ancestors(IElement element)
    {
        for (var parent = element.ParentElement; parent is not null; parent = parent.ParentElement) yield return parent;
    }

    private static void Remove(IEnumerable<IElement> elements)
    {
        foreach (var element in elements.ToList()) element.Remove();
    }

    private static void Write(INode node, LineWriter writer)
    {
        if (node is IText text)
        {
            writer.Inline(text.Data);
            return;
        }
        if (node is not IElement element)
        {
            foreach (var child in node.ChildNodes) Write(child, writer);
            return;
        }

        var name = element.LocalName;
        if (name == "br")
        {
            writer.Break();
        }
        else if (name is ['h', >= '1' and <= '6'])
        {
            writer.Line(new string('#', name[1] - '0') + " ", Flatten(element));
        }
        else if (name == "li")
        {
            writer.Break();
            writer.Prefix("- ");
            WriteChildren(element, writer);
            writer.Break();
            writer.Prefix("");
        }
        else if (name == "tr")
        {
            var cells = element.Children.Where(c => c.LocalName is "td" or "th").Select(Flatten).ToList();
            writer.Line("", string.Join(" | ", cells));
        }
        else if (Blocks.Contains(name))
        {
            writer.Break();
            WriteChildren(element, writer);
            writer.Break();
        }
        else
        {
            WriteChildren(element, writer);
        }
    }

    private static void WriteChildren(IElement element, LineWriter writer)
    {
        foreach (var child in element.ChildNodes) Write(child, writer);
    }

    /// <summary>An element's text on one line (a heading or a table cell with blocks inside).</summary>
    private static string Flatten(IElement element)
    {
        var writer = new LineWriter();
        WriteChildren(element, writer);
        return writer.ToString().Replace('\n', ' ');
    }

    /// <summary>Collects lines: inline text gathers on the current line until a block boundary ends it.</summary>
    private sealed class LineWriter
    {
        private readonly List<string> _lines = [];
        private readonly StringBuilder _current = new();
        private string _prefix = "";

        public void Inline(string text) => _current.Append(text);

        /// <summary>Starts the next line that has text (a list item's first paragraph gets its marker).</summary>
        public void Prefix(string prefix) => _prefix = prefix;

        public void Break()
        {
            var line = ChangeRules.Collapse(_current.ToString());
            _current.Clear();
            if (line.Length == 0) return;
            _lines.Add(_prefix + line);
            _prefix = "";
        }

        public void Line(string prefix, string text)
        {
            Break();
            if (ChangeRules.Collapse(text) is { Length: > 0 } collapsed) _lines.Add(prefix + collapsed);
        }

        public override string ToString()
        {
            Break();
            return string.Join('\n', _lines);
        }
    }

    private static ExtractResult Pdf(byte[] body)
    {
        try
        {
            using var pdf = PdfDocument.Open(body);
            var lines = pdf.GetPages()
                .SelectMany(page => ChangeRules.SplitLines(ContentOrderTextExtractor.GetText(page)))
                .Select(ChangeRules.Collapse)
                .Where(line => line.Length > 0);
            return Done(string.Join('\n', lines));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // PdfPig throws a variety of types on a damaged or encrypted file; each means the same to the source's owner.
            return new ExtractResult(null, $"not a readable PDF: {e.Message}");
        }
    }

    private static bool LooksLikeMarkup(byte[] body)
    {
        var start = Encoding.Latin1.GetString(body, 0, Math.Min(body.Length, 512)).TrimStart('\uFEFF', '\u00EF', '\u00BB', '\u00BF', ' ', '\t', '\r', '\n');
        return start.StartsWith('<');
    }

    private static string Decode(byte[] body, string? charset, bool scanMeta)
    {
        if (Bom(body) is { } bom) return bom.Encoding.GetString(body, bom.Length, body.Length - bom.Length);
        var encoding = Resolve(charset)
            ?? (scanMeta ? Resolve(MetaCharset.Match(Encoding.Latin1.GetString(body, 0, Math.Min(body.Length, MetaScanBytes))).Groups[1].Value) : null);
        if (encoding is not null) return encoding.GetString(body);
        try
        {
            return StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.GetEncoding(1252).GetString(body);
        }
    }

    private static (Encoding Encoding, int Length)? Bom(byte[] body) => body switch
    {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding.UTF8, 3),
        [0xFF, 0xFE, ..] => (Encoding.Unicode, 2),
        [0xFE, 0xFF, ..] => (Encoding.BigEndianUnicode, 2),
        _ => null,
    };

    /// <summary>A charset label → its encoding; as browsers do, the Latin-1 and ASCII labels mean windows-1252.</summary>
    private static Encoding? Resolve(string? label)
    {
        if (string.IsNullOrWhiteSpace(label)) return null;
        label = label.Trim().ToLowerInvariant();
        if (label is "iso-8859-1" or "iso8859-1" or "latin1" or "l1" or "ascii" or "us-ascii" or "cp1252" or "x-cp1252") return Encoding.GetEncoding(1252);
        try
        {
            return Encoding.GetEncoding(label);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
