using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Identity;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Security;

public sealed class BootstrapTests
{
    [Fact]
    public async Task A_revoked_bootstrap_key_stays_revoked_and_the_next_start_succeeds()
    {
        var directory = Path.Combine(Path.GetTempPath(), "webhookhub-tests", Guid.NewGuid().ToString("n"));
        await using (var first = new WebhookHubApp(dataDirectory: directory) { KeepData = true })
        {
            using var admin = first.ApiClient();
            var keyId = (await admin.GetFromJsonAsync<JsonElement>("/api/api-keys")).EnumerateArray().Single().GetProperty("id").GetString();
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/api-keys/{keyId}")).StatusCode);
        }

        // Before: the bootstrapper saw no active key with that hash, inserted it again and hit the unique index.
        await using var second = new WebhookHubApp(dataDirectory: directory);
        using var client = second.ApiClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/api-keys")).StatusCode);
    }

    [Fact]
    public async Task A_short_bootstrap_key_fails_the_start_with_a_clear_sentence()
    {
        var app = new WebhookHubApp(new Dictionary<string, string?> { ["WebhookHub:Bootstrap:AdminApiKey"] = "whk_too_short_123" });
        var error = Assert.ThrowsAny<Exception>(() => app.BaseAddress);
        Assert.Contains("WebhookHub:Bootstrap:AdminApiKey must be at least 32 characters long", error.ToString());
        try { await app.DisposeAsync(); } catch (Exception) { /* the host never started */ }
    }

    [Fact]
    public async Task A_printed_first_start_password_must_be_changed_at_first_sign_in()
    {
        var console = new StringWriter();
        var original = Console.Out;
        Console.SetOut(TextWriter.Synchronized(console));
        WebhookHubApp app;
        try
        {
            app = new WebhookHubApp(new Dictionary<string, string?> { ["WebhookHub:Bootstrap:AdminPassword"] = "" });
            _ = app.BaseAddress;
        }
        finally
        {
            Console.SetOut(original);
        }
        await using var started = app;
        var printed = System.Text.RegularExpressions.Regex.Match(console.ToString(), @"with password (\S+) ").Groups[1].Value;
        Assert.NotEmpty(printed);

        using (var scope = app.Services.CreateScope())
        {
            var admin = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(WebhookHubApp.AdminEmail))!;
            Assert.True(admin.MustChangePassword);
        }
        using var client = SignInForm.Client(app);
        var signedIn = await SignInForm.PostAsync(client, WebhookHubApp.AdminEmail, printed, "192.0.2.77");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/account/change-password", new Uri(app.BaseAddress, signedIn.Headers.Location!).AbsolutePath);
    }
}
