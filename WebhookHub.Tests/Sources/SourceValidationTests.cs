using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Persistence.Sqlite;
using WebhookHub.Core.Sources;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Sources;

/// <summary>The sentences the API's 400 and the form show, field by field; no database is opened and nothing is fetched.</summary>
public sealed class SourceValidationTests : IDisposable
{
    private readonly WebhookHubDbContext _db = new(new DbContextOptionsBuilder<WebhookHubDbContext>().UseSqlite("Data Source=:memory:").Options);
    private readonly PageFetcher _fetcher;
    private readonly SourceService _service;

    public SourceValidationTests()
    {
        var options = Options.Create(new WebhookHubOptions { Delivery = { AllowHttp = true, AllowPrivateNetworks = true } });
        _fetcher = new PageFetcher(options, TimeProvider.System, NullLogger<PageFetcher>.Instance);
        _service = new SourceService(_db, new SqliteWriteGate(), new WebhookUrlValidator(options), _fetcher, options, TimeProvider.System,
            NullLogger<SourceService>.Instance);
    }

    private Task<IReadOnlyDictionary<string, string>> ErrorsAsync(SourceInput input) => _service.ValidateFieldsAsync(input);

    private static SourceInput Valid => new("Fees", "http://127.0.0.1/policy", "uk-fees");

    [Fact]
    public async Task A_name_url_and_route_are_enough()
    {
        Assert.Empty(await ErrorsAsync(Valid));
        Assert.Empty(await ErrorsAsync(Valid with { Cron = "30 0 */6 * * *", IntervalSeconds = 1 }));
    }

    [Fact]
    public async Task The_interval_has_a_floor_unless_a_cron_is_given()
    {
        Assert.Contains("at least 60", (await ErrorsAsync(Valid with { IntervalSeconds = 59 }))["intervalSeconds"]);
        Assert.Contains("30 days", (await ErrorsAsync(Valid with { IntervalSeconds = 31 * 24 * 3600 }))["intervalSeconds"]);
        Assert.Contains("5 fields", (await ErrorsAsync(Valid with { Cron = "hourly" }))["cron"]);
    }

    [Fact]
    public async Task A_bad_rule_is_named_by_its_index()
    {
        var errors = await ErrorsAsync(Valid with
        {
            IncludeSelectors = ["main", "p["], ExcludeSelectors = [" "], IgnorePatterns = ["^ok$", "(open"],
        });
        Assert.Equal(["excludeSelectors[0]", "ignorePatterns[1]", "includeSelectors[1]"], errors.Keys.Order());
        Assert.StartsWith("includeSelectors[1]: ", errors["includeSelectors[1]"]);
        Assert.Equal("excludeSelectors[0] must not be empty.", errors["excludeSelectors[0]"]);
        Assert.Contains("at most 50", (await ErrorsAsync(Valid with { IgnorePatterns = Enumerable.Repeat("x", 51).ToList() }))["ignorePatterns"]);
    }

    [Theory]
    [InlineData("Host", "example.com", "set by WebhookHub")]
    [InlineData("user-agent", "curl", "set by WebhookHub")]
    [InlineData("If-None-Match", "\"x\"", "set by WebhookHub")]
    [InlineData("Proxy-Anything", "x", "set by WebhookHub")]
    [InlineData("Bad Header", "x", "not a valid HTTP header name")]
    [InlineData("X-Note", "a\r\nHost: evil", "line breaks")]
    [InlineData("X-Note", "a\nb", "line breaks")]
    public async Task Headers_that_would_change_the_request_line_or_its_framing_are_refused(string name, string value, string why) =>
        Assert.Contains(why, (await ErrorsAsync(Valid with { Headers = new Dictionary<string, string?> { [name] = value } }))["headers"]);

    [Fact]
    public async Task Ordinary_headers_are_kept_and_one_name_twice_in_two_cases_is_refused()
    {
        Assert.Empty(await ErrorsAsync(Valid with { Headers = new Dictionary<string, string?> { ["Accept-Language"] = "en-GB", ["Cookie"] = "consent=1" } }));
        Assert.Contains("twice", (await ErrorsAsync(Valid with
        {
            Headers = new Dictionary<string, string?> { ["Accept-Language"] = "en-GB", ["accept-language"] = "de" },
        }))["headers"]);
    }

    public void Dispose()
    {
        _fetcher.Dispose();
        _db.Dispose();
    }
}
