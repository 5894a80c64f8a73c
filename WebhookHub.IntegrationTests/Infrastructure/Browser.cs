using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>The system Chromium (/usr/bin/chromium) driven by Playwright; never a downloaded browser.</summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    /// <summary>Cookies a real sign-in gave, by app address and user, for <see cref="NewSignedInPageAsync"/>.</summary>
    private readonly ConcurrentDictionary<(string App, string Email), string> _signedIn = new();

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Instance = browser;
    }

    public IBrowser Instance { get; }

    public static async Task<Browser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A fresh page (own cookies) at the given width, 1280 unless said.</summary>
    public Task<IPage> NewPageAsync(Uri baseAddress, int width = 1280, int height = 900) => NewPageAsync(baseAddress, width, height, null);

    /// <summary>
    /// A fresh page signed in as the admin (or the given user): the first time through the real sign-in page,
    /// after that with the cookies that sign-in gave, so only SignInTests pay for signing in on every test.
    /// </summary>
    public async Task<IPage> NewSignedInPageAsync(Uri baseAddress, int width = 1280, int height = 900,
        string email = WebhookHubApp.AdminEmail, string password = WebhookHubApp.AdminPassword)
    {
        var key = (baseAddress.ToString(), email);
        if (_signedIn.TryGetValue(key, out var cookies)) return await NewPageAsync(baseAddress, width, height, cookies);
        // Signed in wide: the signed-in marker SignInAsync waits for is hidden on phones' app bar.
        var page = await NewPageAsync(baseAddress);
        await SignInAsync(page, email, password);
        _signedIn[key] = await page.Context.StorageStateAsync();
        if (width != 1280 || height != 900) await page.SetViewportSizeAsync(width, height);
        return page;
    }

    private async Task<IPage> NewPageAsync(Uri baseAddress, int width, int height, string? storageState)
    {
        var context = await Instance.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            StorageState = storageState,
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in through the real sign-in page and waits for the interactive shell.</summary>
    public static async Task SignInAsync(IPage page, string email = WebhookHubApp.AdminEmail, string password = WebhookHubApp.AdminPassword)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        // Attached, not visible: narrow layouts hide the e-mail in the app bar.
        await page.WaitForSelectorAsync("[data-testid=signed-in-user]", new() { State = WaitForSelectorState.Attached });
    }

    /// <summary>Saves a screenshot under the test output folder (screenshots/), and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>Runs a wait on the page; when it fails, the failure names a screenshot of what the page showed instead.</summary>
    public static async Task ScreenshotOnFailureAsync(IPage page, string name, Func<Task> wait)
    {
        try
        {
            await wait();
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            var path = await ScreenshotAsync(page, name);
            throw new InvalidOperationException($"{e.Message}\nThe page was at {page.Url}; it showed {path}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Instance.DisposeAsync();
        _playwright.Dispose();
    }
}
