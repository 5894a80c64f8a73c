using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Browser;

public sealed class WebhooksPageTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private WebhookHubApp App => fixture.App;

    [Fact]
    public async Task Create_reveal_rotate_and_delete_a_webhook_through_the_pages()
    {
        var page = await fixture.Browser.NewPageAsync(App.BaseAddress);
        await Infrastructure.Browser.SignInAsync(page);
        await page.GotoAsync("/webhooks/new");

        await page.GetByLabel("Name").FillAsync("Pages webhook");
        await page.GetByLabel("URL").FillAsync("ftp://nowhere");
        await page.GetByText("URL must use https or http").WaitForAsync(); // the Core validator's sentence, as typed
        await Infrastructure.Browser.ScreenshotAsync(page, "webhook-form-error-1280");
        await page.GetByLabel("URL").FillAsync("http://127.0.0.1:9/hook");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create webhook" }).ClickAsync();

        var secret = (await page.Locator("[data-testid=secret-value]").TextContentAsync())!.Trim();
        Assert.StartsWith("whsec_", secret);
        await Infrastructure.Browser.ScreenshotAsync(page, "webhook-created-1280");

        using var api = App.ApiClient();
        var listed = await api.GetFromJsonAsync<JsonElement>("/api/webhooks");
        var created = listed.EnumerateArray().Single(w => w.GetProperty("name").GetString() == "Pages webhook");
        var id = created.GetProperty("id").GetString();
        var revealed = await (await api.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(secret, revealed.GetProperty("secret").GetString());

        await page.GetByRole(AriaRole.Link, new() { Name = "Back to webhooks" }).ClickAsync();
        var row = page.Locator("tr").Filter(new() { HasText = "Pages webhook" });
        await row.GetByText(WebhookHubApp.AdminEmail).WaitForAsync(); // admins see whose webhook it is
        await Infrastructure.Browser.ScreenshotAsync(page, "webhooks-1280");

        await row.GetByRole(AriaRole.Link, new() { Name = "Edit" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal secret" }).ClickAsync();
        Assert.Equal(secret, (await page.Locator("[data-testid=secret-value]").TextContentAsync())!.Trim());
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await page.GetByText("Your new signing secret").WaitForAsync();
        var rotated = (await page.Locator("[data-testid=secret-value]").TextContentAsync())!.Trim();
        Assert.NotEqual(secret, rotated);
        Assert.StartsWith("whsec_", rotated);
        await Infrastructure.Browser.ScreenshotAsync(page, "webhook-edit-1280");

        await page.GetByLabel("Name").FillAsync("Renamed webhook");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        row = page.Locator("tr").Filter(new() { HasText = "Renamed webhook" });
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByText("Deleted \"Renamed webhook\"").WaitForAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetAsync($"/api/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_customer_sees_only_their_own_webhooks_and_the_narrow_layout_reads_well()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        Assert.True((await customer.Client.PostAsJsonAsync("/api/webhooks", new { name = "Mine", url = "http://127.0.0.1:9/mine" })).IsSuccessStatusCode);
        using var api = App.ApiClient();
        Assert.True((await api.PostAsJsonAsync("/api/webhooks", new { name = "Admin's own", url = "http://127.0.0.1:9/admin" })).IsSuccessStatusCode);

        var page = await fixture.Browser.NewPageAsync(App.BaseAddress, width: 390, height: 844);
        await Infrastructure.Browser.SignInAsync(page, customer.Email, "Customer-pass-1");
        await page.GotoAsync("/webhooks");
        await page.GetByText("Mine", new() { Exact = true }).WaitForAsync();
        Assert.Equal(0, await page.GetByText("Admin's own").CountAsync());
        Assert.Equal(0, await page.Locator("[data-testid=owner]").CountAsync());
        await Infrastructure.Browser.ScreenshotAsync(page, "webhooks-390");

        await page.GotoAsync("/webhooks/new");
        await page.GetByLabel("Name").FillAsync("x");
        await Infrastructure.Browser.ScreenshotAsync(page, "webhook-form-390");
    }
}
