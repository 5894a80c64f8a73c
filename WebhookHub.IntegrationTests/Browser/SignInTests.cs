using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Browser;

/// <summary>One app and one Chromium for the class; each test opens its own browser context (own cookies).</summary>
public class BrowserFixture : IAsyncLifetime
{
    public BrowserFixture() : this(null) { }

    /// <param name="settings">The app's settings beside the tests' defaults, for a class that needs its own.</param>
    protected BrowserFixture(IDictionary<string, string?>? settings) => App = new WebhookHubApp(settings);

    public WebhookHubApp App { get; }
    public Infrastructure.Browser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = App.BaseAddress;
        Browser = await Infrastructure.Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await App.DisposeAsync();
    }
}

public sealed class SignInTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_signs_in_and_sees_the_navigation()
    {
        var page = await fixture.Browser.NewPageAsync(fixture.App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);

        Assert.EndsWith("/monitoring", page.Url); // admins start on the dashboard
        foreach (var link in new[] { "Webhooks", "Deliveries", "Dead letters", "Policy changes", "Monitoring", "API keys", "Hangfire" })
            Assert.True(await page.Locator(".mud-nav-link").Filter(new() { HasText = link }).First.IsVisibleAsync(), $"link {link}");
        Assert.Equal(WebhookHubApp.AdminEmail, await page.TextContentAsync("[data-testid=signed-in-user]"));
        // MudBlazor's stylesheet is served: the app bar has its colour, not the browser's default.
        var appBarColour = await page.EvalOnSelectorAsync<string>(".mud-appbar", "e => getComputedStyle(e).backgroundColor");
        Assert.Equal("rgb(40, 53, 147)", appBarColour);
        await Infrastructure.Browser.ScreenshotAsync(page, "signed-in-1280");
    }

    [Fact]
    public async Task Wrong_password_stays_on_the_sign_in_page_with_a_message()
    {
        var page = await fixture.Browser.NewPageAsync(fixture.App.BaseAddress);
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
        var page = await fixture.Browser.NewPageAsync(fixture.App.BaseAddress);
        await page.GotoAsync("/hangfire");
        Assert.Contains("/account/login", page.Url);
        Assert.True(await page.Locator("#password").IsVisibleAsync());
    }

    [Fact]
    public async Task Signed_in_admin_opens_the_hangfire_dashboard()
    {
        var page = await fixture.Browser.NewSignedInPageAsync(fixture.App.BaseAddress);
        var response = await page.GotoAsync("/hangfire");
        Assert.Equal(200, response!.Status);
        Assert.Contains("WebhookHub jobs", await page.TitleAsync());
    }
}
