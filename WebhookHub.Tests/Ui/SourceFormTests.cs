using Bunit;
using MudBlazor;
using MudBlazor.Services;
using WebhookHub.Core.Sources;
using WebhookHub.Web.Features.Sources;

namespace WebhookHub.Tests.Ui;

/// <summary>The source form sends what the user typed, one rule a line, and shows the service's refusals under their fields.</summary>
public sealed class SourceFormTests : BunitContext, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose only asynchronously.
    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    private readonly List<SourceInput> _saved = [];
    private readonly List<SourceInput> _previewed = [];
    private IReadOnlyDictionary<string, string>? _serverErrors;
    private SourcePreview? _preview;

    public SourceFormTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    private IRenderedComponent<SourceForm> RenderForm(Source? existing = null)
    {
        Render<MudPopoverProvider>();
        return Render<SourceForm>(p => p
            .Add(f => f.Existing, existing)
            .Add(f => f.Save, input =>
            {
                _saved.Add(input);
                return Task.FromResult(_serverErrors);
            })
            .Add(f => f.Preview, input =>
            {
                _previewed.Add(input);
                return Task.FromResult((_serverErrors, _serverErrors is null ? _preview : null));
            }));
    }

    private static IRenderedComponent<SourceForm> Type(IRenderedComponent<SourceForm> form, string id, string text)
    {
        form.Find($"#{id}").Input(text);
        return form;
    }

    private static void Click(IRenderedComponent<SourceForm> form, string label) =>
        form.FindAll("button").Single(b => b.TextContent.Contains(label)).Click();

    private static string? HelperOf(IRenderedComponent<SourceForm> form, string id) =>
        form.Find($"#{id}").Closest(".mud-input-control")?.QuerySelector(".mud-input-helper-text")?.TextContent.Trim();

    private IRenderedComponent<SourceForm> FilledForm()
    {
        var form = Type(Type(Type(RenderForm(), "source-name", "Visa fees"), "source-url", "https://www.gov.uk/student-visa"), "source-route", "uk-student-visa");
        Type(form, "source-include", "main\n  .fees table  \n\n");
        Type(form, "source-exclude", ".cookie-banner\n#last-updated");
        Type(form, "source-ignore", "^Last updated");
        Type(form, "source-headers", "Accept-Language: en-GB\nCookie: consent=yes; theme=dark");
        return form;
    }

    [Fact]
    public void The_services_refusals_show_under_their_fields()
    {
        _serverErrors = new Dictionary<string, string>
        {
            ["name"] = "name is required",
            ["url"] = "URL must use https",
            ["route"] = "route must be at most 200 characters",
            ["intervalSeconds"] = "intervalSeconds must be at least 60",
            ["includeSelectors"] = "'main >' is not a valid CSS selector",
            ["excludeSelectors[1]"] = "excludeSelectors[1]: '##x' is not a valid CSS selector",
            ["ignorePatterns"] = "'(' is not a valid regular expression",
            ["triggerText"] = "triggerText must be at most 500 characters",
            ["headers"] = "Host may not be set",
        };
        var form = FilledForm();
        Click(form, "Create source");

        form.WaitForAssertion(() => Assert.Equal("Name is required", HelperOf(form, "source-name")));
        Assert.Equal("URL must use https", HelperOf(form, "source-url"));
        Assert.Equal("Route must be at most 200 characters", HelperOf(form, "source-route"));
        Assert.Equal("IntervalSeconds must be at least 60", HelperOf(form, "source-interval"));
        Assert.Equal("'main >' is not a valid CSS selector", HelperOf(form, "source-include"));
        Assert.Equal("Line 2: '##x' is not a valid CSS selector", HelperOf(form, "source-exclude"));
        Assert.Equal("'(' is not a valid regular expression", HelperOf(form, "source-ignore"));
        Assert.Equal("TriggerText must be at most 500 characters", HelperOf(form, "source-trigger"));
        Assert.Equal("Host may not be set", HelperOf(form, "source-headers"));
        Assert.Equal(9, form.FindAll(".mud-input-control.mud-input-error").Count);
    }

    [Fact]
    public void A_cron_refusal_shows_under_the_cron_field_and_typing_there_clears_it()
    {
        _serverErrors = new Dictionary<string, string> { ["cron"] = "cron is not a valid cron expression" };
        var form = FilledForm();
        form.Find("[data-testid=schedule-cron]").Click();
        Type(form, "source-cron", "every day");
        Click(form, "Create source");
        form.WaitForAssertion(() => Assert.Equal("Cron is not a valid cron expression", HelperOf(form, "source-cron")));

        Type(form, "source-cron", "0 6 * * *");
        form.WaitForAssertion(() => Assert.Equal("5 fields, or 6 with seconds first; times are UTC.", HelperOf(form, "source-cron")));
    }

    [Fact]
    public void Saving_sends_one_rule_a_line_the_headers_and_the_schedule()
    {
        var form = FilledForm();
        Click(form, "Create source");
        form.WaitForAssertion(() => Assert.Single(_saved));

        var input = _saved[0];
        Assert.Equal(("Visa fees", "https://www.gov.uk/student-visa", "uk-student-visa"), (input.Name, input.Url, input.Route));
        Assert.Equal(["main", ".fees table"], input.IncludeSelectors!);
        Assert.Equal([".cookie-banner", "#last-updated"], input.ExcludeSelectors!);
        Assert.Equal(["^Last updated"], input.IgnorePatterns!);
        Assert.Equal("en-GB", input.Headers!["Accept-Language"]);
        Assert.Equal("consent=yes; theme=dark", input.Headers["Cookie"]); // split at the first colon only
        Assert.Equal(3600, input.IntervalSeconds);
        Assert.Null(input.Cron);
        Assert.Null(input.TriggerText);
        Assert.True(input.IsActive);
    }

    [Fact]
    public void A_header_line_without_a_colon_is_refused_before_anything_is_sent()
    {
        var form = Type(FilledForm(), "source-headers", "Accept-Language: en-GB\nen-US");
        Click(form, "Create source");
        form.WaitForAssertion(() => Assert.Equal("Line 2 is not in the form Name: value.", HelperOf(form, "source-headers")));
        Click(form, "Preview extraction");
        Assert.Empty(_saved);
        Assert.Empty(_previewed);
    }

    [Fact]
    public void Preview_shows_the_status_and_the_exact_text_compared()
    {
        _preview = new SourcePreview(200, "## Fees\nThe fee is £490.\nApply online.", null);
        var form = FilledForm();
        Click(form, "Preview extraction");

        form.WaitForAssertion(() => Assert.Equal("## Fees\nThe fee is £490.\nApply online.", form.Find("[data-testid=preview-text]").TextContent));
        Assert.Equal("pre", form.Find("[data-testid=preview-text]").TagName.ToLowerInvariant());
        Assert.Contains("HTTP 200", form.Find("[data-testid=preview-status]").TextContent);
        Assert.Contains("3 lines", form.Find("[data-testid=preview-status]").TextContent);
        Assert.Equal([".cookie-banner", "#last-updated"], _previewed.Single().ExcludeSelectors!);
        Assert.Empty(_saved);
    }

    [Fact]
    public void Preview_shows_a_fetch_error_or_the_fields_it_refused()
    {
        _preview = new SourcePreview(404, null, "HTTP 404 Not Found");
        var form = FilledForm();
        Click(form, "Preview extraction");
        form.WaitForAssertion(() => Assert.Contains("HTTP 404 Not Found", form.Find("[data-testid=preview-error]").TextContent));

        _serverErrors = new Dictionary<string, string> { ["url"] = "URL must not point at a private network" };
        Click(form, "Preview extraction");
        form.WaitForAssertion(() => Assert.Equal("URL must not point at a private network", HelperOf(form, "source-url")));
        Assert.Empty(form.FindAll("[data-testid=preview-error]"));
        Assert.NotEmpty(form.FindAll("[data-testid=preview-refused]"));
    }

    [Fact]
    public void Editing_starts_from_the_source_and_keeps_its_cron()
    {
        var existing = new Source
        {
            Id = Guid.NewGuid(), Name = "Fees", Url = "https://www.gov.uk/fees", Route = "uk-fees", Cron = "0 6 * * *",
            IncludeSelectors = ["main"], IgnorePatterns = ["^Updated", "\\d+ views"], Headers = new() { ["Accept-Language"] = "en-GB" },
            TriggerText = "fee", IsActive = false,
        };
        var form = RenderForm(existing);
        Assert.Equal("0 6 * * *", form.Find("#source-cron").GetAttribute("value"));
        Click(form, "Save changes");
        form.WaitForAssertion(() => Assert.Single(_saved));

        var input = _saved[0];
        Assert.Equal("0 6 * * *", input.Cron);
        Assert.Equal(["^Updated", "\\d+ views"], input.IgnorePatterns!);
        Assert.Equal("en-GB", input.Headers!["Accept-Language"]);
        Assert.Equal("fee", input.TriggerText);
        Assert.False(input.IsActive);
    }

    [Fact]
    public void A_refused_rule_is_named_by_its_line_in_the_text_area_blank_lines_counted()
    {
        _serverErrors = new Dictionary<string, string>
        {
            ["ignorePatterns[1]"] = "ignorePatterns[1]: Not a valid regular expression: Invalid pattern '(' at offset 1.",
            ["includeSelectors[0]"] = "includeSelectors[0] must not be empty.",
        };
        var form = Type(FilledForm(), "source-ignore", "^Updated\n\n  (  \n");
        Click(form, "Create source");

        form.WaitForAssertion(() => Assert.Equal("Line 3: Not a valid regular expression: Invalid pattern '(' at offset 1.", HelperOf(form, "source-ignore")));
        Assert.Equal("Line 1 must not be empty.", HelperOf(form, "source-include"));
        Assert.Equal(["^Updated", "("], _saved.Single().IgnorePatterns!);
    }
}
