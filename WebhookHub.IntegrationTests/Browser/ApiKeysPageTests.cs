using System.Net;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Browser;

public sealed class ApiKeysPageTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private WebhookHubApp App => fixture.App;
    private Infrastructure.Browser Chromium => fixture.Browser;

    [Fact]
    public async Task A_key_created_on_the_page_works_once_shown_and_stops_working_when_revoked()
    {
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        await page.GotoAsync("/api-keys");

        await page.GetByLabel("Name of the new key").FillAsync("from-the-page");
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var key = (await page.Locator("[data-testid=secret-value]").TextContentAsync())!.Trim();
        Assert.StartsWith("whk_", key);
        await Infrastructure.Browser.ScreenshotAsync(page, "api-keys-1280");

        using var client = App.ApiClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/api-keys")).StatusCode);

        var row = page.Locator("tr").Filter(new() { HasText = "from-the-page" });
        await row.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await row.Locator("text=revoked").WaitForAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/api-keys")).StatusCode);
    }
}
