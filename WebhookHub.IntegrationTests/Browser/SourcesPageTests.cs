using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using WebhookHub.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace WebhookHub.IntegrationTests.Browser;

/// <summary>
/// One app that fetches a host as often as a test asks: the preview and two checks of the same page come seconds apart,
/// inside the production per-host minimum.
/// </summary>
public sealed class SourcesBrowserFixture() : BrowserFixture(new Dictionary<string, string?> { ["WebhookHub:Sources:MinSecondsPerHost"] = "0" });

public sealed class SourcesPageTests(SourcesBrowserFixture fixture) : IClassFixture<SourcesBrowserFixture>
{
    private WebhookHubApp App => fixture.App;

    private static string Page(string body) => $"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Student visa fees</title></head>
        <body><main>
        <h1>Student visa fees</h1>
        {body}
        <div class="cookie-banner">We use cookies to make this site work</div>
        </main></body></html>
        """;

    /// <summary>
    /// The form's preview shows the text without the excluded banner; the first check stores the baseline; after the test
    /// edits the page (one line removed, one added), the next check shows both in the side-by-side diff.
    /// </summary>
    [Fact]
    public async Task An_admin_watches_a_page_previews_it_and_sees_the_diff_after_an_edit()
    {
        SetDefaultExpectTimeout(20_000);
        var html = Page("<p>Application fee: £490</p>\n<p>Health surcharge: £776 a year</p>");
        await using var site = await TestReceiver.StartAsync();
        site.Respond((_, _) => Results.Content(Volatile.Read(ref html), "text/html; charset=utf-8"));

        var page = await fixture.Browser.NewSignedInPageAsync(App.BaseAddress);
        await page.GotoAsync("/sources");
        await Expect(page.GetByText("No sources yet")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New source" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sources/new$")); // pushState: see below

        await page.Locator("#source-name").FillAsync("Visa fees page");
        await page.Locator("#source-url").FillAsync(site.Url("/student-visa/fees"));
        await page.Locator("#source-route").FillAsync("uk-student-visa");
        await page.Locator("#source-interval").FillAsync("86400"); // no scheduled check during the test
        await page.Locator("#source-exclude").FillAsync(".cookie-banner");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview extraction" }).ClickAsync();

        var preview = page.GetByTestId("preview-text");
        await Infrastructure.Browser.ScreenshotOnFailureAsync(page, "source-preview-failed", () => Expect(preview).ToContainTextAsync("Application fee: £490"));
        await Expect(preview).ToContainTextAsync("Health surcharge: £776 a year");
        await Expect(preview).Not.ToContainTextAsync("cookies");
        await Expect(page.GetByTestId("preview-status")).ToContainTextAsync("HTTP 200");
        await Infrastructure.Browser.ScreenshotAsync(page, "source-preview-1280");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create source" }).ClickAsync();
        // The URL, polled: Blazor moves to the new page by history.pushState, which fires no "load" for WaitForURLAsync to
        // wait for when the move lands before it starts waiting (it timed out on the right page, 1 run in 8).
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sources/[0-9a-f-]{36}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Visa fees page" })).ToBeVisibleAsync();

        var checks = page.GetByTestId("source-checks");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(checks.Locator("[data-outcome=Baseline]")).ToHaveCountAsync(1);
        await Expect(page.GetByText("Only the baseline so far")).ToBeVisibleAsync();

        Volatile.Write(ref html, Page("<p>Health surcharge: £776 a year</p>\n<p>Priority service: £500</p>"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(checks.Locator("[data-outcome=Changed]")).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "View the change" })).ToBeVisibleAsync(); // the snackbar's link

        var diff = page.GetByTestId("diff-viewer");
        await Infrastructure.Browser.ScreenshotOnFailureAsync(page, "source-diff-failed", () =>
            Expect(diff.Locator("td[data-side=old][data-change=deleted]")).ToHaveTextAsync("Application fee: £490"));
        await Expect(diff.Locator("td[data-side=new][data-change=inserted]")).ToHaveTextAsync("Priority service: £500");
        await Expect(diff.Locator("td[data-side=new][data-change=unchanged]").Filter(new() { HasText = "Health surcharge" })).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("snapshot-row")).ToHaveCountAsync(2);
        await Infrastructure.Browser.ScreenshotAsync(page, "source-details-1280");
        await page.SetViewportSizeAsync(390, 844);
        await Infrastructure.Browser.ScreenshotAsync(page, "source-details-390");
        await page.SetViewportSizeAsync(1280, 900);

        await page.GotoAsync("/sources");
        var row = page.Locator("tr").Filter(new() { HasText = "Visa fees page" });
        await Expect(row.GetByTestId("source-health")).ToHaveTextAsync("healthy");
        await Infrastructure.Browser.ScreenshotAsync(page, "sources-1280");
        await page.GotoAsync("/monitoring");
        await Expect(page.GetByTestId("sources-all-healthy")).ToContainTextAsync("All 1 source healthy");
    }
}

/// <summary>A source whose page fails: the list and the monitoring panel show its error, and both clear when it recovers.</summary>
public sealed class SourcesPageHealthTests(SourcesBrowserFixture fixture) : IClassFixture<SourcesBrowserFixture>
{
    [Fact]
    public async Task A_failing_source_shows_its_error_on_the_list_and_on_monitoring_until_it_recovers()
    {
        SetDefaultExpectTimeout(20_000);
        var failing = true;
        await using var site = await TestReceiver.StartAsync();
        site.Respond((_, _) => Volatile.Read(ref failing)
            ? Results.Text("down for maintenance", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Content("<html><body><main><p>Fees: £490</p></main></body></html>", "text/html; charset=utf-8"));
        using var api = fixture.App.ApiClient();
        var created = await api.PostAsJsonAsync("/api/sources", new { name = "Broken page", url = site.Url("/fees"), route = "uk-fees", intervalSeconds = 86400 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var page = await fixture.Browser.NewSignedInPageAsync(fixture.App.BaseAddress);
        await page.GotoAsync("/sources");
        var row = page.Locator("tr").Filter(new() { HasText = "Broken page" });
        await row.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(page.GetByText("Check of \"Broken page\" failed: HTTP 503")).ToBeVisibleAsync();
        await Expect(row.GetByTestId("source-health")).ToContainTextAsync("failure"); // the sweep may have failed once too
        await Expect(row).ToContainTextAsync("HTTP 503");

        await page.GotoAsync("/monitoring");
        var failingRow = page.GetByTestId("failing-source");
        await Expect(failingRow).ToContainTextAsync("Broken page");
        await Expect(failingRow).ToContainTextAsync("HTTP 503");
        await Infrastructure.Browser.ScreenshotAsync(page, "monitoring-sources-failing-1280");

        Volatile.Write(ref failing, false);
        await failingRow.GetByRole(AriaRole.Link, new() { Name = "Broken page" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(page.GetByTestId("source-summary").GetByTestId("source-health")).ToHaveTextAsync("healthy");
        await page.GotoAsync("/monitoring");
        await Expect(page.GetByTestId("sources-all-healthy")).ToContainTextAsync("All 1 source healthy");
    }
}
