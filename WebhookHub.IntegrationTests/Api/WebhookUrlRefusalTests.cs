using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Api;

/// <summary>The production URL rules over HTTP: http and private networks refused, as in appsettings.json.</summary>
public sealed class WebhookUrlRefusalTests(WebhookUrlRefusalTests.StrictAppFixture fixture) : IClassFixture<WebhookUrlRefusalTests.StrictAppFixture>
{
    public sealed class StrictAppFixture() : AppFixture(new Dictionary<string, string?>
    {
        ["WebhookHub:Delivery:AllowHttp"] = "false",
        ["WebhookHub:Delivery:AllowPrivateNetworks"] = "false",
    });

    private WebhookHubApp App => fixture.App;

    private const string Unreachable = WebhookHub.Core.Webhooks.WebhookUrlValidator.UnreachableHost;

    // A public address written as a literal, so the test needs no DNS.
    private const string PublicUrl = "https://93.184.215.14/hooks";

    [Theory]
    [InlineData("http://93.184.215.14/hooks", "URL must use https")]
    [InlineData("https://user:pass@93.184.215.14/hooks", "URL must not contain credentials")]
    [InlineData("https://127.0.0.1/hooks", Unreachable)]
    [InlineData("https://10.20.30.40/hooks", Unreachable)]
    [InlineData("https://169.254.169.254/latest/meta-data/", Unreachable)]
    [InlineData("https://[::1]/hooks", Unreachable)]
    [InlineData("https://[::ffff:192.168.0.1]/hooks", Unreachable)]
    // A name gets the same sentence as a literal (and as a name that does not resolve, WebhookUrlValidatorTests): no internal DNS map.
    [InlineData("https://localhost/hooks", Unreachable)]
    [InlineData("https://93.184.215.14:6379/hooks", "URL port must be 443 or 80")]
    public async Task A_refused_url_is_a_400_naming_url_and_nothing_is_saved(string url, string expected)
    {
        using var admin = App.ApiClient();
        var response = await admin.PostAsJsonAsync("/api/webhooks", new { name = "refused", url });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        var message = Assert.Single(errors.GetProperty("url").EnumerateArray()).GetString();
        Assert.Equal(expected, message);
        Assert.DoesNotMatch(@"\d+\.\d+\.\d+\.\d+|::", message);
        Assert.DoesNotContain((await admin.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray(),
            w => w.GetProperty("url").GetString() == url);
    }

    [Fact]
    public async Task A_public_https_url_is_accepted_and_a_refused_one_does_not_replace_it()
    {
        using var admin = App.ApiClient();
        var created = await admin.PostAsJsonAsync("/api/webhooks", new { name = "public", url = PublicUrl });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var put = await admin.PutAsJsonAsync($"/api/webhooks/{id}", new { name = "moved", url = "https://10.0.0.5/hooks" });
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var stored = await admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");
        Assert.Equal("public", stored.GetProperty("name").GetString());
        Assert.Equal(PublicUrl, stored.GetProperty("url").GetString());
    }
}
