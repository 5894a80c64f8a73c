using WebhookHub.Core.Sources;

namespace WebhookHub.Tests.Sources;

public sealed class SnapshotDiffTests
{
    private const string Before = """
        # Visa
        Intro
        ## Fees
        Fee is 100
        Processing 5 days
        Line a
        Line b
        Line c
        Line d
        Line e
        Line f
        Line g
        ## Refunds
        Refunds within 30 days
        """;

    [Fact]
    public void Equal_texts_have_no_diff()
    {
        Assert.Null(SnapshotDiff.Compare(Before, Before, "a", "b"));
        Assert.Null(SnapshotDiff.Compare("a\nb", "a\r\nb\n", "a", "b"));
    }

    [Fact]
    public void Known_answer_two_hunks_with_three_lines_of_context()
    {
        var after = Before.Replace("Fee is 100", "Fee is 120").Replace("30 days", "14 days");

        var diff = SnapshotDiff.Compare(Before, after, "snapshot 2026-11-29T07:00:00Z", "snapshot 2026-12-02T09:00:00Z");

        Assert.NotNull(diff);
        Assert.Equal("""
            --- snapshot 2026-11-29T07:00:00Z
            +++ snapshot 2026-12-02T09:00:00Z
            @@ -1,7 +1,7 @@
             # Visa
             Intro
             ## Fees
            -Fee is 100
            +Fee is 120
             Processing 5 days
             Line a
             Line b
            @@ -11,4 +11,4 @@
             Line f
             Line g
             ## Refunds
            -Refunds within 30 days
            +Refunds within 14 days

            """.ReplaceLineEndings("\n"), diff.Unified);
        Assert.Equal((2, 2), (diff.Added, diff.Removed));
        Assert.Equal("2 lines changed under 'Fees' and 'Refunds'", diff.Summary);
    }

    [Fact]
    public void Changes_close_together_share_one_hunk()
    {
        var after = Before.Replace("Line a", "Line A").Replace("Line g", "Line G");
        var diff = SnapshotDiff.Compare(Before, after, "a", "b")!;
        Assert.Single(diff.Unified.Split('\n'), line => line.StartsWith("@@"));
        Assert.Contains("@@ -3,12 +3,12 @@\n", diff.Unified);
    }

    [Fact]
    public void Insertions_and_deletions_number_lines_as_unified_diffs_do()
    {
        Assert.Equal("--- a\n+++ b\n@@ -1,2 +1,3 @@\n+x\n a\n b\n", SnapshotDiff.Compare("a\nb", "x\na\nb", "a", "b")!.Unified);
        Assert.Equal("--- a\n+++ b\n@@ -1,3 +1,2 @@\n a\n-b\n c\n", SnapshotDiff.Compare("a\nb\nc", "a\nc", "a", "b")!.Unified);
        Assert.Equal("--- a\n+++ b\n@@ -0,0 +1,1 @@\n+a\n", SnapshotDiff.Compare("", "a", "a", "b")!.Unified);
        Assert.Equal("--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n", SnapshotDiff.Compare("a\nb", "", "a", "b")!.Unified);
    }

    [Theory]
    [InlineData("## Fees\nA", "## Fees\nB\nC\nD", "3 lines added, 1 removed under 'Fees'")]
    [InlineData("## Fees\nA", "## Fees\nA\nB", "1 line added under 'Fees'")]
    [InlineData("intro\nA\nB\nC", "intro\nC", "2 lines removed")]
    [InlineData("x\n## Fees\nA\n## Refunds\nB", "y\n## Fees\nA\n## Refunds\nB", "1 line changed")]
    [InlineData("## Fees\nA", "## Charges\nA", "1 line changed under 'Fees' and 'Charges'")]
    [InlineData("# A\n1\n# B\n2\n# C\n3", "# A\n1x\n# B\n2x\n# C\n3x", "3 lines changed under 'A', 'B' and 'C'")]
    [InlineData("# A\n1\n# B\n2\n# C\n3\n# D\n4\n# E\n5", "# A\n1x\n# B\n2x\n# C\n3x\n# D\n4x\n# E\n5x", "5 lines changed under 'A', 'B', 'C' and 2 more")]
    public void Summaries_say_how_many_lines_and_under_which_headings(string previous, string current, string summary) =>
        Assert.Equal(summary, SnapshotDiff.Compare(previous, current, "a", "b")!.Summary);

    [Fact]
    public void Removed_lines_take_their_section_from_the_previous_text()
    {
        var diff = SnapshotDiff.Compare("## Fees\nA\n## Refunds\nB\nC", "## Fees\nA\nC", "a", "b")!;
        Assert.Equal("2 lines removed under 'Refunds'", diff.Summary);
        Assert.Equal((0, 2), (diff.Added, diff.Removed));
    }
}
