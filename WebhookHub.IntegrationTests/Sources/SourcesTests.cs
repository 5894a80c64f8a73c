using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Signing;
using WebhookHub.Core.Sources;
using WebhookHub.IntegrationTests.Infrastructure;
using static WebhookHub.IntegrationTests.Infrastructure.TestWebhooks;

namespace WebhookHub.IntegrationTests.Sources;

/// <summary>Sources may be checked every second here, and the fetcher does not space requests to 127.0.0.1.</summary>
public sealed class SourcesFixture() : AppFixture(new Dictionary<string, string?>
{
    ["WebhookHub:Sources:MinIntervalSeconds"] = "1",
    ["WebhookHub:Sources:MinSecondsPerHost"] = "0",
});

/// <summary>
/// Sources end to end: the real app, a real page on 127.0.0.1 that the test edits, real webhook receivers. Sources are
/// made switched off (the schedule leaves them alone) and checked with "check now", except where the schedule is the point.
/// </summary>
public sealed class SourcesTests(SourcesFixture fixture) : IClassFixture<SourcesFixture>
{
    private WebhookHubApp App => fixture.App;

    private const string Fees = "<h2>Fees</h2><p>Application fee: £100.</p><p>Priority service: £500.</p>";

    [Fact]
    public async Task The_first_check_is_a_baseline_and_an_unchanged_page_reports_nothing()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route);

        var baseline = await CheckAsync(admin, id);
        Assert.Equal("baseline", baseline.GetProperty("outcome").GetString());
        Assert.False(baseline.GetProperty("changed").GetBoolean());
        Assert.Equal(200, baseline.GetProperty("statusCode").GetInt32());
        var again = await CheckAsync(admin, id);
        Assert.False(again.GetProperty("changed").GetBoolean());
        Assert.Contains(again.GetProperty("outcome").GetString(), new[] { "unchanged", "notModified" });

        Assert.Equal(0, await ChangesOnAsync(route));
        var snapshots = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/snapshots");
        var snapshot = Assert.Single(snapshots.GetProperty("items").EnumerateArray());
        var text = (await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/snapshots/{snapshot.GetProperty("id").GetGuid()}"))
            .GetProperty("text").GetString()!;
        Assert.Contains("Application fee: £100.", text);
        Assert.DoesNotContain("© Gov", text); // main content only, no footer
        var checks = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/checks");
        Assert.Equal(2, checks.GetProperty("total").GetInt32());
        Assert.All(checks.GetProperty("items").EnumerateArray(), c => Assert.Equal("manual", c.GetProperty("trigger").GetString()));
    }

    [Fact]
    public async Task A_real_edit_reports_one_policy_change_whose_diff_shows_it_and_whose_delivery_verifies()
    {
        await using var page = await PageServer.StartAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var route = NewRoute();
        var hook = await CreateAsync(App, receiver.Url(), route);
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var id = await CreateSourceAsync(admin, page.Url, route);
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());

        page.Serve(Fees.Replace("£100", "£120"));
        var check = await CheckAsync(admin, id);
        Assert.Equal("changed", check.GetProperty("outcome").GetString());
        Assert.True(check.GetProperty("changed").GetBoolean());
        var changeId = check.GetProperty("policyChangeId").GetGuid();

        var change = await admin.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{changeId}");
        Assert.Equal(route, change.GetProperty("route").GetString());
        Assert.Equal(page.Url, change.GetProperty("source").GetString());
        var diff = change.GetProperty("diff").GetString()!;
        Assert.Contains("-Application fee: £100.", diff);
        Assert.Contains("+Application fee: £120.", diff);
        Assert.DoesNotContain("+Priority service", diff);
        Assert.StartsWith(SourceChecker.SummaryPrefix, change.GetProperty("summary").GetString());

        var request = Assert.Single(await receiver.WaitForCountAsync(1));
        var verifier = new WebhookVerifier(hook.Secret);
        Assert.True(verifier.VerifyStandard(request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Header("webhook-signature"), request.Body));
        Assert.True(verifier.VerifyGitHub(request.Header("x-webhook-signature"), request.Body));
        var data = JsonDocument.Parse(request.Body).RootElement.GetProperty("data");
        Assert.Equal(changeId, data.GetProperty("policyChangeId").GetGuid());
        Assert.Equal(diff, data.GetProperty("diff").GetString());
        Assert.StartsWith(SourceChecker.SummaryPrefix, data.GetProperty("summary").GetString());

        // Checked again, nothing new: still the one change; then deleted, its change stays.
        Assert.False((await CheckAsync(admin, id)).GetProperty("changed").GetBoolean());
        Assert.Equal(1, await ChangesOnAsync(route));
        Assert.Equal(2, (await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/snapshots")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/sources/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/sources/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/policy-changes/{changeId}")).StatusCode);
        Assert.Equal(0, await QueryAsync(App, db => db.SourceSnapshots.CountAsync(s => s.SourceId == id)));
        Assert.Equal(0, await QueryAsync(App, db => db.SourceChecks.CountAsync(c => c.SourceId == id)));
    }

    [Fact]
    public async Task Edits_only_inside_an_excluded_element_or_on_an_ignored_line_report_nothing()
    {
        await using var page = await PageServer.StartAsync();
        string Page(string stamp, string build, string fee) =>
            $"<h2>Fees</h2><p>Application fee: {fee}.</p><div class=\"updated\">Page updated {stamp}</div><p>Build {build}</p>";
        page.Serve(Page("1 December 2026 10:00", "4711", "£100"));
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route, new()
        {
            ["excludeSelectors"] = new[] { ".updated" },
            ["ignorePatterns"] = new[] { "^Build \\d+$" },
        });
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());

        page.Serve(Page("2 December 2026 09:30", "4712", "£100"));
        var ruled = await CheckAsync(admin, id);
        Assert.Equal("unchanged", ruled.GetProperty("outcome").GetString());
        Assert.Equal(200, ruled.GetProperty("statusCode").GetInt32()); // the page did change: the rules left it out
        Assert.Equal(0, await ChangesOnAsync(route));

        page.Serve(Page("2 December 2026 09:45", "4713", "£130"));
        Assert.True((await CheckAsync(admin, id)).GetProperty("changed").GetBoolean());
        Assert.Equal(1, await ChangesOnAsync(route));
    }

    [Fact]
    public async Task A_whitespace_only_edit_reports_nothing()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route);
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());

        page.Serve("\n  <h2>  Fees </h2>\n\n<p>Application   fee:\n £100.</p>\t<p> Priority  service: £500. </p>\n");
        var check = await CheckAsync(admin, id);
        Assert.Equal("unchanged", check.GetProperty("outcome").GetString());
        Assert.Equal(0, await ChangesOnAsync(route));
    }

    [Fact]
    public async Task A_not_modified_answer_is_recorded_and_the_server_saw_the_validator()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var id = await CreateSourceAsync(admin, page.Url, NewRoute());
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());
        Assert.Equal("", page.Requests[^1].Header("if-none-match"));

        var check = await CheckAsync(admin, id);
        Assert.Equal("notModified", check.GetProperty("outcome").GetString());
        Assert.Equal(304, check.GetProperty("statusCode").GetInt32());
        Assert.Equal(page.ETag, page.Requests[^1].Header("if-none-match"));
        Assert.StartsWith("WebhookHub/", page.Requests[^1].Header("user-agent"));
        var latest = (await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/checks")).GetProperty("items")[0];
        Assert.Equal("notModified", latest.GetProperty("outcome").GetString());
        Assert.Equal(304, latest.GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task A_failing_source_shows_its_error_and_failures_then_recovers_and_resets()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        page.FailWith(503);
        using var admin = App.ApiClient();
        var id = await CreateSourceAsync(admin, page.Url, NewRoute());

        var first = await CheckAsync(admin, id);
        Assert.Equal("failed", first.GetProperty("outcome").GetString());
        Assert.Equal(503, first.GetProperty("statusCode").GetInt32());
        Assert.Contains("503", first.GetProperty("error").GetString());
        await CheckAsync(admin, id);
        var failing = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}");
        Assert.Equal(2, failing.GetProperty("consecutiveFailures").GetInt32());
        Assert.Contains("503", failing.GetProperty("lastError").GetString());
        Assert.Equal(503, failing.GetProperty("lastStatusCode").GetInt32());

        page.Recover();
        var recovered = await CheckAsync(admin, id);
        Assert.Equal("baseline", recovered.GetProperty("outcome").GetString());
        Assert.Equal(JsonValueKind.Null, recovered.GetProperty("error").ValueKind);
        var healthy = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}");
        Assert.Equal(0, healthy.GetProperty("consecutiveFailures").GetInt32());
        Assert.Equal(JsonValueKind.Null, healthy.GetProperty("lastError").ValueKind);
        var outcomes = (await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/checks")).GetProperty("items").EnumerateArray()
            .Select(c => c.GetProperty("outcome").GetString()).ToList();
        Assert.Equal(["baseline", "failed", "failed"], outcomes);
    }

    [Fact]
    public async Task A_scheduled_check_answered_503_with_retry_after_backs_off_at_least_that_long()
    {
        await using var page = await PageServer.StartAsync();
        page.FailWith(503, retryAfterSeconds: 600);
        using var admin = App.ApiClient();
        var id = await CreateSourceAsync(admin, page.Url, NewRoute(), new() { ["isActive"] = true, ["intervalSeconds"] = 1 });

        var source = await Eventually.Matches(() => admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}"),
            s => s.GetProperty("consecutiveFailures").GetInt32() >= 1, "a scheduled check that failed");
        Assert.Equal(1, source.GetProperty("consecutiveFailures").GetInt32());
        Assert.Equal(503, source.GetProperty("lastStatusCode").GetInt32());
        var wait = source.GetProperty("nextCheckAt").GetDateTime() - source.GetProperty("lastCheckedAt").GetDateTime();
        Assert.InRange(wait, TimeSpan.FromSeconds(599), TimeSpan.FromSeconds(601));
        Assert.Single(page.Requests);
    }

    [Fact]
    public async Task With_a_trigger_text_only_its_appearing_or_disappearing_is_reported()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve("<h2>Applications</h2><p>Applications are open.</p><p>Fee: £100.</p>");
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route, new() { ["triggerText"] = "suspended" });
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());

        page.Serve("<h2>Applications</h2><p>Applications are open.</p><p>Fee: £110.</p>");
        Assert.Equal("notTriggered", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());
        Assert.Equal(0, await ChangesOnAsync(route));

        page.Serve("<h2>Applications</h2><p>Applications are suspended until March.</p><p>Fee: £110.</p>");
        var check = await CheckAsync(admin, id);
        Assert.True(check.GetProperty("changed").GetBoolean());
        var diff = (await admin.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{check.GetProperty("policyChangeId").GetGuid()}"))
            .GetProperty("diff").GetString()!;
        Assert.Contains("+Applications are suspended until March.", diff);
        Assert.Equal(1, await ChangesOnAsync(route));
    }

    [Fact]
    public async Task Two_checks_at_once_on_one_edit_report_it_once()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route);
        Assert.Equal("baseline", (await CheckAsync(admin, id)).GetProperty("outcome").GetString());

        // A slow site: both checks have read the source (and its latest snapshot) before either has the page, so both
        // see the edit and race to store it.
        page.Delay = TimeSpan.FromMilliseconds(300);
        for (var edit = 1; edit <= 3; edit++)
        {
            page.Serve(Fees.Replace("£100", $"£{100 + edit * 10}"));
            var checks = await Task.WhenAll(CheckAsync(admin, id), CheckAsync(admin, id));
            Assert.Single(checks, c => c.GetProperty("changed").GetBoolean());
            Assert.Single(checks, c => c.GetProperty("outcome").GetString() == "unchanged");
            Assert.Equal(edit, await ChangesOnAsync(route));
            Assert.Equal(1 + edit, (await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/snapshots")).GetProperty("total").GetInt32());
        }
    }

    [Fact]
    public async Task The_schedule_checks_an_active_source_by_itself()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var admin = App.ApiClient();
        var route = NewRoute();
        var id = await CreateSourceAsync(admin, page.Url, route, new() { ["isActive"] = true, ["intervalSeconds"] = 2 });

        await Eventually.Matches(() => ChecksAsync(admin, id), c => c.Any(x => x.Outcome == "baseline" && x.Trigger == "scheduled"),
            "a scheduled baseline check");
        page.Serve(Fees.Replace("£500", "£550"));
        var checks = await Eventually.Matches(() => ChecksAsync(admin, id), c => c.Any(x => x.Outcome == "changed"),
            "a scheduled check that reports the edit");
        Assert.All(checks, c => Assert.Equal("scheduled", c.Trigger));
        Assert.Equal(1, await ChangesOnAsync(route));
        var source = await admin.GetFromJsonAsync<JsonElement>($"/api/sources/{id}");
        Assert.True(source.GetProperty("nextCheckAt").GetDateTime() > source.GetProperty("lastCheckedAt").GetDateTime());

        // The sweep runs every few seconds; its succeeded runs are kept minutes in Hangfire, not a day.
        var storage = App.Services.GetRequiredService<Hangfire.JobStorage>();
        string? sweepJob;
        using (var connection = storage.GetConnection())
            sweepJob = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection)
                .Single(j => j.Id == SourceCheckJobs.RecurringJobId).LastJobId;
        Assert.NotNull(sweepJob);
        await WaitForHangfireStateAsync(App, sweepJob, "Succeeded");
        var expireAt = await Eventually.Matches(() => Task.FromResult(storage.GetMonitoringApi().JobDetails(sweepJob).ExpireAt),
            at => at is not null, "the sweep job's expiry");
        Assert.InRange(expireAt!.Value, DateTime.UtcNow, DateTime.UtcNow + ShortHistoryAttribute.Kept + TimeSpan.FromMinutes(1));

        // Switched off, it is left alone.
        var off = await admin.PutAsJsonAsync($"/api/sources/{id}", new { name = "off", url = page.Url, route, isActive = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await off.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("nextCheckAt").ValueKind);
    }

    [Fact]
    public async Task Bad_fields_get_a_400_naming_each_of_them()
    {
        using var admin = App.ApiClient();
        var response = await admin.PostAsJsonAsync("/api/sources", new
        {
            name = "",
            url = "ftp://example.com/policy",
            route = " ",
            intervalSeconds = 0,
            cron = "every day",
            includeSelectors = new[] { "main", "p[" },
            excludeSelectors = new[] { "" },
            ignorePatterns = new[] { "(unclosed" },
            headers = new Dictionary<string, string> { ["Host"] = "evil.example" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "url", "route", "intervalSeconds", "cron", "includeSelectors[1]", "excludeSelectors[0]", "ignorePatterns[0]", "headers" })
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        Assert.False(errors.TryGetProperty("includeSelectors[0]", out _));

        var interval = await admin.PostAsJsonAsync("/api/sources", new { name = "n", url = "http://127.0.0.1:9/p", route = "r", intervalSeconds = 0 });
        Assert.Contains("at least 1", (await interval.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("intervalSeconds")[0].GetString());
        var header = await admin.PostAsJsonAsync("/api/sources", new
        {
            name = "n", url = "http://127.0.0.1:9/p", route = "r", headers = new Dictionary<string, string> { ["X-Note"] = "a\r\nHost: evil" },
        });
        Assert.Contains("line breaks", (await header.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("headers")[0].GetString());
        var never = await admin.PostAsJsonAsync("/api/sources", new { name = "n", url = "http://127.0.0.1:9/p", route = "r", cron = "0 0 30 2 *" });
        Assert.Contains("never fires", (await never.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("cron")[0].GetString());

        var badJson = await admin.PostAsync("/api/sources", new StringContent("{\"name\":\"n\",\"intervalSeconds\":\"soon\"}",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.True((await badJson.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("intervalSeconds", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/sources/{Guid.NewGuid()}/check", null)).StatusCode);
        Assert.Equal(0, await QueryAsync(App, db => db.Sources.CountAsync(s => s.Name == "n")));

        // A 6-field cron (seconds first) and a 5-field one are both accepted.
        foreach (var cron in new[] { "0 */6 * * *", "30 0 */6 * * *" })
        {
            var ok = await admin.PostAsJsonAsync("/api/sources", new { name = "cron", url = "http://127.0.0.1:9/p", route = "r", cron, isActive = false });
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }
    }

    [Fact]
    public async Task A_reporter_may_create_and_check_sources_an_operator_or_customer_only_read_them()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees);
        using var reporter = await ApiUsers.CreateAsync(App, "Reporter");
        using var operatorUser = await ApiUsers.CreateAsync(App, "Operator");
        using var customer = await ApiUsers.CreateAsync(App, "Customer");

        var id = await CreateSourceAsync(reporter.Client, page.Url, NewRoute(),
            new() { ["headers"] = new Dictionary<string, string> { ["Cookie"] = "consent=yes" } });
        Assert.Equal("baseline", (await CheckAsync(reporter.Client, id)).GetProperty("outcome").GetString());
        Assert.Equal("consent=yes", page.Requests[^1].Header("cookie"));
        Assert.Equal("consent=yes", (await reporter.Client.GetFromJsonAsync<JsonElement>($"/api/sources/{id}"))
            .GetProperty("headers").GetProperty("Cookie").GetString());
        foreach (var reader in new[] { operatorUser.Client, customer.Client })
        {
            var body = new { name = "mine", url = page.Url, route = "r" };
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/sources", body)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync($"/api/sources/{id}/check", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync($"/api/sources/{id}")).StatusCode);
            var seen = await reader.GetFromJsonAsync<JsonElement>($"/api/sources/{id}");
            Assert.Equal("***", seen.GetProperty("headers").GetProperty("Cookie").GetString());
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/sources/{id}/checks")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.ApiClient(null).GetAsync("/api/sources")).StatusCode);
    }

    [Fact]
    public async Task Preview_shows_the_text_a_check_would_compare_and_stores_nothing()
    {
        await using var page = await PageServer.StartAsync();
        page.Serve(Fees + "<div class=\"updated\">Page updated today</div>");
        using var admin = App.ApiClient();
        var response = await admin.PostAsJsonAsync("/api/sources/preview", new
        {
            url = page.Url, excludeSelectors = new[] { ".updated" }, ignorePatterns = new[] { "^Priority" },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await response.Content.ReadFromJsonAsync<JsonElement>();
        var text = preview.GetProperty("text").GetString()!;
        Assert.Contains("Application fee: £100.", text);
        Assert.DoesNotContain("Page updated", text);
        Assert.DoesNotContain("Priority", text);
        Assert.Equal(0, await QueryAsync(App, db => db.Sources.CountAsync(s => s.Url == page.Url)));
    }

    private sealed record CheckRow(string Outcome, string Trigger);

    private static async Task<List<CheckRow>> ChecksAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/sources/{id}/checks")).GetProperty("items").EnumerateArray()
        .Select(c => new CheckRow(c.GetProperty("outcome").GetString()!, c.GetProperty("trigger").GetString()!)).ToList();

    private static string NewRoute() => "src-" + Guid.NewGuid().ToString("n")[..8];

    private Task<int> ChangesOnAsync(string route) => QueryAsync(App, db => db.PolicyChanges.CountAsync(p => p.Route == route));

    /// <summary>Creates a source through the API (switched off unless <paramref name="extra"/> says otherwise) and returns its id.</summary>
    private static async Task<Guid> CreateSourceAsync(HttpClient client, string url, string route, Dictionary<string, object?>? extra = null)
    {
        var body = new Dictionary<string, object?> { ["name"] = "Policy " + route, ["url"] = url, ["route"] = route, ["isActive"] = false };
        foreach (var (key, value) in extra ?? []) body[key] = value;
        var response = await client.PostAsJsonAsync("/api/sources", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal($"/api/sources/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    private static async Task<JsonElement> CheckAsync(HttpClient client, Guid id)
    {
        var response = await client.PostAsync($"/api/sources/{id}/check", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
