using Microsoft.Playwright;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Browser;

/// <summary>A fresh install: every list says what to do next instead of showing an empty table.</summary>
public sealed class EmptyPagesTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Theory]
    [InlineData("/webhooks", "Create your first webhook")]
    [InlineData("/deliveries", "Send a test from the webhooks list")]
    [InlineData("/policy-changes", "an admin can also trigger one here")]
    [InlineData("/dead-letters", "Failures that exhaust their retries land here")]
    public async Task Empty_lists_say_what_to_do_next(string path, string hint)
    {
        var page = await fixture.Browser.NewSignedInPageAsync(fixture.App.BaseAddress);
        await page.GotoAsync(path);
        await page.GetByText(hint).WaitForAsync();
        await Infrastructure.Browser.ScreenshotAsync(page, "empty" + path.Replace('/', '-') + "-1280");
    }

    [Fact]
    public async Task A_customer_cannot_open_the_global_history()
    {
        using var customer = await ApiUsers.CreateAsync(fixture.App);
        var page = await fixture.Browser.NewPageAsync(fixture.App.BaseAddress, width: 390, height: 844);
        await Infrastructure.Browser.SignInAsync(page, customer.Email, "Customer-pass-1");
        await page.GotoAsync("/deliveries");
        await page.WaitForURLAsync("**/account/access-denied**");
        await page.GotoAsync("/policy-changes");
        await page.GetByText("No policy changes yet").WaitForAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Trigger a change" }).CountAsync());
        await Infrastructure.Browser.ScreenshotAsync(page, "empty-policy-changes-390");
    }
}
