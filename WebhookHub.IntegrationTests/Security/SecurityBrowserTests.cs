using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebhookHub.Core.Identity;
using WebhookHub.IntegrationTests.Browser;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Security;

/// <summary>What only a browser shows: the CSP lets the app run, cookie rules (CSRF, hub Origin), circuits that end.</summary>
public sealed class SecurityBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private WebhookHubApp App => fixture.App;
    private Infrastructure.Browser Chromium => fixture.Browser;

    private static object Change(string route) => new { route, source = "https://example.gov/" + route, diff = "--- a\n+++ b\n" };

    [Fact]
    public async Task The_content_security_policy_lets_blazor_and_mudblazor_run_and_reports_nothing()
    {
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Add(message.Text);
        };
        page.PageError += (_, error) => violations.Add(error);

        await Infrastructure.Browser.SignInAsync(page);
        foreach (var path in new[] { "/webhooks", "/policy-changes", "/monitoring", "/users" })
        {
            await page.GotoAsync(path);
            await page.Locator(".mud-main-content h4, .mud-main-content .mud-typography-h4").First.WaitForAsync();
        }
        // A MudBlazor interaction that needs its script: the dark-mode toggle.
        await page.GetByRole(AriaRole.Button, new() { Name = "Toggle dark mode" }).ClickAsync();
        Assert.Empty(violations);
    }

    [Fact]
    public async Task Cookie_authenticated_api_calls_that_change_state_need_the_custom_header()
    {
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        var api = page.Context.APIRequest;

        var bare = await api.PostAsync("/api/policy-changes", new() { DataObject = Change("csrf-bare") });
        Assert.Equal(403, bare.Status);
        Assert.Equal(200, (await api.GetAsync("/api/policy-changes")).Status);

        var withHeader = await api.PostAsync("/api/policy-changes", new()
        {
            DataObject = Change("csrf-header"),
            Headers = new Dictionary<string, string> { ["X-Requested-With"] = "fetch" },
        });
        Assert.Equal(202, withHeader.Status);

        // API keys carry no ambient authority: no header needed.
        using var admin = App.ApiClient();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync("/api/policy-changes", Change("csrf-key"))).StatusCode);
    }

    [Fact]
    public async Task The_hub_refuses_a_cookie_connection_from_another_origin()
    {
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        var api = page.Context.APIRequest;
        const string negotiate = "/hubs/deliveries/negotiate?negotiateVersion=1";

        var foreign = await api.PostAsync(negotiate, new() { Headers = new Dictionary<string, string> { ["Origin"] = "https://evil.example" } });
        Assert.Equal(403, foreign.Status);
        var own = await api.PostAsync(negotiate, new()
        {
            Headers = new Dictionary<string, string> { ["Origin"] = App.BaseAddress.GetLeftPart(UriPartial.Authority) },
        });
        Assert.Equal(200, own.Status);
    }

    [Fact]
    public async Task A_disabled_users_open_page_is_sent_to_sign_in()
    {
        using var admin = App.ApiClient();
        using var operatorUser = await ApiUsers.CreateAsync(App, "Operator");
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        // Operators land on /monitoring: wait there, for the page of the one circuit that must end. (Loading the page
        // again here raced that circuit's own move from / to /monitoring and left two circuits of the page.)
        await Infrastructure.Browser.SignInAsync(page, operatorUser.Email, "Customer-pass-1");
        await page.WaitForURLAsync("**/monitoring");
        await page.Locator(".mud-main-content h4").Filter(new() { HasText = "Monitoring" }).WaitForAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/users/{operatorUser.Id}/disable", null)).StatusCode);

        // The circuit learns it from the notifier, not from the 30 s revalidation tick.
        await Infrastructure.Browser.ScreenshotOnFailureAsync(page, "disabled-user-open-page",
            () => page.WaitForURLAsync("**/account/login**", new() { Timeout = 20_000 }));
        await page.GotoAsync("/monitoring");
        Assert.Contains("/account/login", page.Url);
    }

    [Fact]
    public async Task A_user_disabled_while_the_pages_circuit_starts_is_sent_to_sign_in()
    {
        using var admin = App.ApiClient();
        using var operatorUser = await ApiUsers.CreateAsync(App, "Operator");
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page, operatorUser.Email, "Customer-pass-1");

        // The next page's circuit connection passes the cookie check, then the user is disabled before the circuit
        // starts: no provider of that circuit exists yet to hear the notification.
        var forwarding = Task.CompletedTask; // frames go on in the order they came
        HttpStatusCode? disabled = null;
        await page.RouteWebSocketAsync(url => url.Contains("/_blazor", StringComparison.Ordinal), socket =>
        {
            var server = socket.ConnectToServer();
            socket.OnMessage(frame => forwarding = forwarding.ContinueWith(async _ =>
            {
                if (frame.Binary is { } bytes && Encoding.ASCII.GetString(bytes).Contains("StartCircuit", StringComparison.Ordinal))
                    disabled = (await admin.PostAsync($"/api/users/{operatorUser.Id}/disable", null)).StatusCode;
                if (frame.Binary is { } binary) server.Send(binary);
                else server.Send(frame.Text!);
            }).Unwrap());
        });
        await page.GotoAsync("/monitoring");

        // Not the 30 s revalidation tick: the circuit checks its user once it has one.
        await Infrastructure.Browser.ScreenshotOnFailureAsync(page, "disabled-user-circuit-start",
            () => page.WaitForURLAsync("**/account/login**", new() { Timeout = 20_000 }));
        Assert.Equal(HttpStatusCode.NoContent, disabled);
    }

    [Fact]
    public async Task A_user_who_must_change_the_password_can_open_nothing_else_until_it_is_changed()
    {
        using var user = await ApiUsers.CreateAsync(App, "Operator");
        using (var scope = App.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            stored.MustChangePassword = true; // as the bootstrapper sets it for a printed password
            await users.UpdateAsync(stored);
        }
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", user.Email);
        await page.FillAsync("#password", "Customer-pass-1");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/account/change-password");

        await page.GotoAsync("/webhooks");
        await page.WaitForURLAsync("**/account/change-password");
        Assert.Equal(403, (await page.Context.APIRequest.GetAsync("/api/webhooks")).Status);
        Assert.Equal(403, (await page.Context.APIRequest.GetAsync("/metrics")).Status);

        await page.FillAsync("#current", "Customer-pass-1");
        await page.FillAsync("#new", "A-new-password-2");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-testid=signed-in-user]", new() { State = WaitForSelectorState.Attached });
        Assert.Equal(200, (await page.Context.APIRequest.GetAsync("/api/webhooks")).Status);
    }

    [Fact]
    public async Task An_admin_creates_a_reporter_and_its_key_on_the_pages()
    {
        var page = await Chromium.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        await page.GotoAsync("/users");
        var email = $"pipeline-{Guid.NewGuid():n}@test.local";
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("Pipeline-pass-1");
        await page.Locator("[data-testid=new-user-role]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "Reporter" }).ClickAsync();
        // MudSelect closes its popover and awaits a script call before it sets the value, and the circuit handles
        // the next event meanwhile: a click on "Create user" as soon as the popover is gone created a Customer.
        // The select shows the choice only after the page has it.
        await page.Locator(".mud-select").Filter(new() { Has = page.Locator("[data-testid=new-user-role]"), HasText = "Reporter" })
            .First.WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create user" }).ClickAsync();
        var created = page.Locator("tr").Filter(new() { HasText = email });
        var refused = page.Locator("[data-testid=new-user-error]");
        await Infrastructure.Browser.ScreenshotOnFailureAsync(page, "users-page-create", () => created.Or(refused).First.WaitForAsync());
        if (await refused.IsVisibleAsync()) Assert.Fail("The page refused the user: " + await refused.TextContentAsync());
        await created.Filter(new() { HasText = "Reporter" }).WaitForAsync();

        await page.GotoAsync("/api-keys");
        await page.GetByLabel("Name of the new key").FillAsync("change-detector");
        await page.Locator("[data-testid=key-owner]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = email }).ClickAsync();
        await page.Locator(".mud-select").Filter(new() { Has = page.Locator("[data-testid=key-owner]"), HasText = email }).First.WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var key = (await page.Locator("[data-testid=secret-value]").TextContentAsync())!.Trim();
        await page.Locator("tr").Filter(new() { HasText = "change-detector" }).Filter(new() { HasText = email }).WaitForAsync();

        using var reporter = App.ApiClient(key);
        Assert.Equal(HttpStatusCode.Accepted, (await reporter.PostAsJsonAsync("/api/policy-changes", Change("from-pipeline"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reporter.GetAsync("/api/webhooks")).StatusCode);
    }
}
