using WebhookHub.Tests.Infrastructure;

namespace WebhookHub.Tests.Browser;

public sealed class SignInTests : IAsyncLifetime
{
    private readonly WebhookHubApp _app = new();
    private Infrastructure.Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Infrastructure.Browser.LaunchAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Admin_signs_in_and_sees_the_navigation()
    {
        var page = await _browser.NewPageAsync(_app.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);

        Assert.EndsWith("/monitoring", page.Url); // admins start on the dashboard
        foreach (var link in new[] { "Webhooks", "Deliveries", "Dead letters", "Policy changes", "Monitoring", "API keys", "Hangfire" })
            Assert.True(await page.Locator("nav a, .mud-nav-link").Filter(new() { HasText = link }).First.IsVisibleAsync(), $"link {link}");
        Assert.Equal(WebhookHubApp.AdminEmail, await page.TextContentAsync("[data-testid=signed-in-user]"));
        await Infrastructure.Browser.ScreenshotAsync(page, "signed-in-1280");
    }

    [Fact]
    public async Task Wrong_password_stays_on_the_sign_in_page_with_a_message()
    {
        var page = await _browser.NewPageAsync(_app.BaseAddress);
        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", WebhookHubApp.AdminEmail);
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("button[type=submit]");
        Assert.Contains("Wrong email or password", await page.TextContentAsync("[data-testid=login-error]"));
        await Infrastructure.Browser.ScreenshotAsync(page, "sign-in-error");
    }

    [Fact]
    public async Task Anonymous_hangfire_ends_on_the_sign_in_page()
    {
        var page = await _browser.NewPageAsync(_app.BaseAddress);
        await page.GotoAsync("/hangfire");
        Assert.Contains("/account/login", page.Url);
        Assert.True(await page.Locator("#password").IsVisibleAsync());
    }

    [Fact]
    public async Task Signed_in_admin_opens_the_hangfire_dashboard()
    {
        var page = await _browser.NewPageAsync(_app.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        var response = await page.GotoAsync("/hangfire");
        Assert.Equal(200, response!.Status);
        Assert.Contains("WebhookHub jobs", await page.TitleAsync());
    }
}
