using WebhookHub.Core.Sources;

namespace WebhookHub.Tests.Sources;

public sealed class ChangeRulesTests
{
    [Fact]
    public void Whitespace_only_changes_give_the_same_text()
    {
        var before = "## Fees\nThe fee is  100.\n\nRefunds apply";
        var after = "  ## Fees \r\n\tThe fee\u00A0is 100.\r\n\r\n\r\nRefunds   apply\n";
        Assert.Equal(ChangeRules.Apply(before, []), ChangeRules.Apply(after, []));
        Assert.Equal("## Fees\nThe fee is 100.\nRefunds apply", ChangeRules.Apply(after, []));
    }

    [Fact]
    public void Lines_matching_an_ignore_pattern_are_dropped()
    {
        string[] ignore = [@"^Last updated:", @"(?i)cookie"];
        var before = ChangeRules.Apply("Fees\nLast updated: 1 May 2026\nWe use Cookies.\nRefunds", ignore);
        var after = ChangeRules.Apply("Fees\nLast updated: 2 June 2026\nRefunds", ignore);
        Assert.Equal("Fees\nRefunds", before);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Ignore_patterns_are_case_sensitive_unless_they_say_otherwise() =>
        Assert.Equal("last updated: today", ChangeRules.Apply("last updated: today", ["^Last updated"]));

    [Theory]
    [InlineData(@"^Last updated:", null)]
    [InlineData(@"\d{4}-\d{2}", null)]
    [InlineData("(unclosed", "Not a valid regular expression")]
    [InlineData("[a-", "Not a valid regular expression")]
    [InlineData(" ", "Pattern is empty")]
    public void Pattern_errors_say_why(string pattern, string? expected)
    {
        var error = ChangeRules.PatternError(pattern);
        if (expected is null) Assert.Null(error);
        else Assert.StartsWith(expected, error);
    }

    [Fact]
    public void An_invalid_pattern_in_stored_rules_is_skipped_not_thrown() =>
        Assert.Equal("a\nb", ChangeRules.Apply("a\nb", ["(unclosed"]));

    [Theory]
    [InlineData(null, "a", "b", true)]
    [InlineData("  ", "a", "b", true)]
    [InlineData("suspended", "Visas open", "Visas SUSPENDED", true)]
    [InlineData("suspended", "Visas suspended", "Visas open", true)]
    [InlineData("suspended", "Visas suspended", "Visas suspended until May", false)]
    [InlineData("suspended", "Visas open", "Visas open today", false)]
    [InlineData("fee  increase", "no change", "a fee increase", true)]
    public void Trigger_counts_when_its_text_appears_or_disappears(string? trigger, string previous, string current, bool expected) =>
        Assert.Equal(expected, ChangeRules.Triggered(trigger, previous, current));
}
