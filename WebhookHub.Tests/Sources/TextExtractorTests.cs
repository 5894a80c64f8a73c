using System.Text;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using WebhookHub.Core.Sources;

namespace WebhookHub.Tests.Sources;

public sealed class TextExtractorTests
{
    static TextExtractorTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static string Text(string html, string[]? include = null, string[]? exclude = null, string contentType = "text/html; charset=utf-8")
    {
        var result = TextExtractor.Extract(Encoding.UTF8.GetBytes(html), contentType, include ?? [], exclude ?? []);
        Assert.Null(result.Error);
        return result.Text!;
    }

    private const string Page = """
        <!doctype html><html><head><title>Visas</title><style>p { color: red }</style></head>
        <body>
          <nav><a href="/">Home</a> <a href="/visas">Visas</a></nav>
          <header>Government site</header>
          <main>
            <h1>Student visa</h1>
            <p>You can   apply <b>up to</b> 6 months
               before your course.</p>
            <script>var tracking = "do not read";</script>
            <div class="stamp">Last updated 1 May 2026</div>
          </main>
          <aside>Related links</aside>
          <footer>Crown copyright</footer>
        </body></html>
        """;

    [Fact]
    public void Main_content_is_the_main_element_without_scripts()
    {
        Assert.Equal("# Student visa\nYou can apply up to 6 months before your course.\nLast updated 1 May 2026", Text(Page));
    }

    [Fact]
    public void Exclude_selectors_remove_elements_before_extraction() =>
        Assert.Equal("# Student visa\nYou can apply up to 6 months before your course.", Text(Page, exclude: [".stamp"]));

    [Fact]
    public void Include_selectors_give_the_text_of_every_match_in_document_order()
    {
        var html = "<body><p class=b>first b</p><p class=a>an a</p><div class=b>second <span class=a>nested</span></div></body>";
        Assert.Equal("first b\nan a\nsecond nested", Text(html, include: [".a", ".b"]));
    }

    [Fact]
    public void An_include_selector_that_matches_nothing_is_an_error()
    {
        var result = TextExtractor.Extract(Encoding.UTF8.GetBytes(Page), "text/html", ["main", "#fees"], []);
        Assert.Equal(new ExtractResult(null, "no element matches '#fees'"), result);
    }

    [Fact]
    public void An_invalid_selector_is_an_error() =>
        Assert.Equal("'div >' is not a valid CSS selector", TextExtractor.Extract("<p>x</p>"u8.ToArray(), "text/html", [], ["div >"]).Error);

    [Theory]
    [InlineData("<body><nav>Menu</nav><div role=main><p>Role main</p></div><footer>f</footer></body>", "Role main")]
    [InlineData("<body><nav>Menu</nav><article><p>The article</p></article><aside>a</aside></body>", "The article")]
    [InlineData("<body><nav>Menu</nav><header>h</header><article>One</article><article>Two</article><aside>a</aside><footer>f</footer></body>", "One\nTwo")]
    [InlineData("<body><nav>Menu</nav>Just <i>body</i> text<footer>f</footer></body>", "Just body text")]
    public void Without_main_the_role_then_a_single_article_then_the_body_without_chrome(string html, string expected) =>
        Assert.Equal(expected, Text(html));

    [Fact]
    public void Headings_lists_tables_and_line_breaks_keep_their_shape()
    {
        var html = """
            <main>
              <h2>Fees <small>(2026)</small></h2>
              <ul><li>One</li><li>Two <i>items</i></li><li></li></ul>
              <ol><li><p>Numbered</p></li></ol>
              <table><thead><tr><th>Item</th><th>Price</th></tr></thead>
                <tbody><tr><td>Visa</td><td>£100</td></tr><tr><td><p>Priority</p><p>service</p></td><td>£500</td></tr></tbody></table>
              <h3>Refunds</h3>
              <p>line one<br>line two</p>
              <p>no<b>space</b>here</p>
            </main>
            """;
        Assert.Equal("""
            ## Fees (2026)
            - One
            - Two items
            - Numbered
            Item | Price
            Visa | £100
            Priority service | £500
            ### Refunds
            line one
            line two
            nospacehere
            """.ReplaceLineEndings("\n"), Text(html));
    }

    [Fact]
    public void Never_text_elements_are_removed() =>
        Assert.Equal("Visible", Text(
            "<main><noscript>Enable JS</noscript><template><p>t</p></template><svg><text>chart</text></svg><iframe src=x></iframe><p>Visible</p></main>"));

    private const string Euro = "Café costs €5 – “quoted”";

    [Fact]
    public void Charset_from_the_content_type()
    {
        var body = Encoding.GetEncoding(1252).GetBytes($"<p>{Euro}</p>");
        Assert.Equal(Euro, TextExtractor.Extract(body, "text/html; charset=windows-1252", [], []).Text);
    }

    [Theory]
    [InlineData("<meta charset=\"windows-1252\">")]
    [InlineData("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">")]
    public void Charset_from_a_meta_element_when_the_header_has_none(string meta)
    {
        var body = Encoding.GetEncoding(1252).GetBytes($"<html><head>{meta}</head><body><p>{Euro}</p></body></html>");
        Assert.Equal(Euro, TextExtractor.Extract(body, "text/html", [], []).Text);
    }

    [Fact]
    public void Utf8_with_meta_without_meta_and_with_a_bom()
    {
        Assert.Equal(Euro, TextExtractor.Extract(Encoding.UTF8.GetBytes($"<meta charset=utf-8><p>{Euro}</p>"), "text/html", [], []).Text);
        Assert.Equal(Euro, TextExtractor.Extract(Encoding.UTF8.GetBytes($"<p>{Euro}</p>"), "text/html", [], []).Text);
        byte[] bom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"<p>{Euro}</p>")];
        // The byte order mark wins over a wrong header.
        Assert.Equal(Euro, TextExtractor.Extract(bom, "text/html; charset=windows-1252", [], []).Text);
    }

    [Fact]
    public void Undeclared_bytes_that_are_not_utf8_are_read_as_windows_1252() =>
        Assert.Equal(Euro, TextExtractor.Extract(Encoding.GetEncoding(1252).GetBytes($"<p>{Euro}</p>"), null, [], []).Text);

    [Fact]
    public void Plain_text_passes_through_decoded()
    {
        var body = Encoding.GetEncoding(1252).GetBytes("Fees\r\n  Café 5 €\r\n");
        Assert.Equal(new ExtractResult("Fees\n  Café 5 €", null), TextExtractor.Extract(body, "text/plain; charset=windows-1252", [], []));
        Assert.Equal("<b>not html</b>", TextExtractor.Extract("<b>not html</b>"u8.ToArray(), "text/plain", [], []).Text);
    }

    [Fact]
    public void Undeclared_or_octet_stream_bodies_are_sniffed()
    {
        Assert.Equal("Hi", TextExtractor.Extract("  <p>Hi</p>"u8.ToArray(), "application/octet-stream", [], []).Text);
        Assert.Equal("plain words", TextExtractor.Extract("plain words"u8.ToArray(), null, [], []).Text);
    }

    [Fact]
    public void Other_content_types_are_refused() =>
        Assert.Equal("unsupported content type image/png", TextExtractor.Extract([0x89, 0x50, 0x4E, 0x47], "image/png", [], []).Error);

    [Fact]
    public void A_page_without_text_is_an_error_not_an_empty_snapshot() =>
        Assert.NotNull(TextExtractor.Extract("<html><body><div id=app></div><script>render()</script></body></html>"u8.ToArray(), "text/html", [], []).Error);

    [Fact]
    public void Pdf_text_page_by_page_line_by_line()
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var first = builder.AddPage(595, 842);
        first.AddText("Fees apply from May", 12, new PdfPoint(50, 700), font);
        first.AddText("Refunds within 14 days", 12, new PdfPoint(50, 650), font);
        builder.AddPage(595, 842).AddText("Page two", 12, new PdfPoint(50, 700), font);
        var pdf = builder.Build();

        var result = TextExtractor.Extract(pdf, "application/octet-stream", [], []);

        Assert.Null(result.Error);
        Assert.Equal("Fees apply from May\nRefunds within 14 days\nPage two", result.Text);
    }

    [Fact]
    public void A_damaged_pdf_is_an_error() =>
        Assert.StartsWith("not a readable PDF", TextExtractor.Extract("%PDF-1.7 nothing else"u8.ToArray(), "application/pdf", [], []).Error);

    [Theory]
    [InlineData("main p", null)]
    [InlineData("#fees > li:nth-child(2n+1)", null)]
    [InlineData("div[data-x='1'], .a .b", null)]
    [InlineData("div >", "'div >' is not a valid CSS selector")]
    [InlineData("p[", "'p[' is not a valid CSS selector")]
    [InlineData("", "Selector is empty")]
    public void Selector_errors(string selector, string? expected) =>
        Assert.Equal(expected, TextExtractor.SelectorError(selector));
}
