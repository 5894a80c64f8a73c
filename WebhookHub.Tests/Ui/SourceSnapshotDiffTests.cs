using Bunit;
using MudBlazor.Services;
using WebhookHub.Web.Features.Sources;

namespace WebhookHub.Tests.Ui;

/// <summary>The side-by-side viewer between two snapshots of a source: what was removed, added and changed, and where.</summary>
public sealed class SourceSnapshotDiffTests : BunitContext, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    public SourceSnapshotDiffTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    private const string Before = "## Fees\nApplication fee: £490\nHealth surcharge: £776 a year\nApply online.";
    private const string After = "## Fees\nHealth surcharge: £776 a year\nApply online.\nPriority service: £500";

    private IRenderedComponent<SnapshotDiffViewer> RenderDiff(string before, string after, int context = 3) =>
        Render<SnapshotDiffViewer>(p => p.Add(v => v.OldText, before).Add(v => v.NewText, after)
            .Add(v => v.OldLabel, "2026-12-01 09:00:00 UTC").Add(v => v.NewLabel, "2026-12-02 09:00:00 UTC").Add(v => v.ContextLines, context));

    private static List<string> Lines(IRenderedComponent<SnapshotDiffViewer> diff, string side, string change) =>
        diff.FindAll($"td[data-side={side}][data-change={change}]").Select(td => td.TextContent).ToList();

    [Fact]
    public void A_removed_line_is_red_on_the_left_and_an_added_line_green_on_the_right()
    {
        var diff = RenderDiff(Before, After);

        Assert.Equal(["Application fee: £490"], Lines(diff, "old", "deleted"));
        Assert.Equal(["Priority service: £500"], Lines(diff, "new", "inserted"));
        Assert.Equal(["## Fees", "Health surcharge: £776 a year", "Apply online."], Lines(diff, "new", "unchanged"));
        // Each removed or added line faces a filler on the other side, so the unchanged lines stay level.
        Assert.Equal(2, diff.FindAll("td.diff-filler").Count);
        Assert.All(diff.FindAll("td[data-change=deleted]"), td => Assert.Contains("diff-deleted", td.ClassList));
        Assert.All(diff.FindAll("td[data-change=inserted]"), td => Assert.Contains("diff-inserted", td.ClassList));
        Assert.Equal("+1 −1 lines", Normalise(diff.Find("[data-testid=diff-counts]").TextContent));
        Assert.Equal("2026-12-01 09:00:00 UTC", diff.Find("[data-testid=diff-old-label]").TextContent);
        Assert.Equal("2026-12-02 09:00:00 UTC", diff.Find("[data-testid=diff-new-label]").TextContent);
    }

    [Fact]
    public void A_changed_line_is_marked_on_both_sides_with_its_changed_words()
    {
        var diff = RenderDiff("## Fees\nApplication fee: £490\nApply online.", "## Fees\nApplication fee: £524\nApply online.");

        Assert.Equal(["Application fee: £490"], Lines(diff, "old", "modified"));
        Assert.Equal(["Application fee: £524"], Lines(diff, "new", "modified"));
        Assert.Contains("490", diff.Find("td[data-side=old] .diff-word-deleted").TextContent);
        Assert.Contains("524", diff.Find("td[data-side=new] .diff-word-inserted").TextContent);
        Assert.Empty(diff.FindAll("td[data-change=deleted], td[data-change=inserted]"));
    }

    [Fact]
    public void Long_unchanged_runs_fold_to_their_context_until_the_whole_text_is_asked_for()
    {
        var lines = Enumerable.Range(1, 40).Select(i => $"Rule {i}").ToList();
        var before = string.Join("\n", lines);
        lines[19] = "Rule 20 (amended)";
        var diff = RenderDiff(before, string.Join("\n", lines), context: 2);

        Assert.Equal(["Rule 18", "Rule 19", "Rule 21", "Rule 22"], Lines(diff, "new", "unchanged"));
        Assert.Equal(["… 17 unchanged lines …", "… 18 unchanged lines …"], diff.FindAll(".diff-gap td").Select(td => td.TextContent).ToList());

        diff.Find(".mud-switch input").Change(true);
        diff.WaitForAssertion(() => Assert.Equal(39, Lines(diff, "new", "unchanged").Count));
        Assert.Empty(diff.FindAll(".diff-gap"));
    }

    [Fact]
    public void Equal_texts_say_so()
    {
        var diff = RenderDiff(Before, Before);
        Assert.Contains("Both texts are the same", diff.Markup);
        Assert.Empty(diff.FindAll("td[data-change=deleted], td[data-change=inserted], td[data-change=modified]"));
    }

    private static string Normalise(string text) => string.Join(" ", text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
