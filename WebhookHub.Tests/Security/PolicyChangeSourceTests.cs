using WebhookHub.Core.Events;

namespace WebhookHub.Tests.Security;

/// <summary>The source is rendered as a link on the policy changes page: only http(s) may get there.</summary>
public sealed class PolicyChangeSourceTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("javascript:alert(document.cookie)")]
    [InlineData("JavaScript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("vbscript:msgbox(1)")]
    [InlineData("/relative/path")]
    [InlineData("example.gov/page")]
    [InlineData("ftp://example.gov/page")]
    public void A_source_that_is_not_an_absolute_http_url_is_refused(string source)
    {
        var errors = PolicyChangeService.Validate(new PolicyChangeInput("route", source, "diff"), Now);
        Assert.Equal("source must be an absolute http or https URL.", errors["source"]);
    }

    [Theory]
    [InlineData("https://www.gov.uk/student-visa")]
    [InlineData("http://example.gov/page?x=1")]
    public void An_http_or_https_source_is_accepted(string source) =>
        Assert.Empty(PolicyChangeService.Validate(new PolicyChangeInput("route", source, "diff"), Now));
}
