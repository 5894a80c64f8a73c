using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Api;

public sealed class AuthApiTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private WebhookHubApp App => fixture.App;

    [Fact]
    public async Task Api_without_a_key_is_401()
    {
        using var anonymous = App.ApiClient(apiKey: null);
        var response = await anonymous.GetAsync("/api/api-keys");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Api_with_an_unknown_key_is_401()
    {
        using var client = App.ApiClient("whk_not_a_real_key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/api-keys")).StatusCode);
    }

    [Fact]
    public async Task Admin_creates_a_customer_whose_new_key_works_but_cannot_create_users()
    {
        using var admin = App.ApiClient();
        var email = $"customer-{Guid.NewGuid():n}@test.local";
        var created = await admin.PostAsJsonAsync("/api/users", new { email, password = "Customer-pass-1", role = "Customer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = await created.Content.ReadFromJsonAsync<JsonElement>();
        var userId = user.GetProperty("id").GetString();

        var keyResponse = await admin.PostAsJsonAsync("/api/api-keys", new { name = "ci", userId });
        Assert.Equal(HttpStatusCode.Created, keyResponse.StatusCode);
        var key = (await keyResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;

        using var customer = App.ApiClient(key);
        var keys = await customer.GetFromJsonAsync<JsonElement>("/api/api-keys");
        var listed = Assert.Single(keys.EnumerateArray());
        Assert.Equal("ci", listed.GetProperty("name").GetString());
        Assert.False(listed.TryGetProperty("key", out _), "a list never shows the key itself");
        Assert.DoesNotContain(key, keys.GetRawText());

        var forbidden = await customer.PostAsJsonAsync("/api/users", new { email = "x@test.local", password = "Whatever-123", role = "Admin" });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task Customer_key_on_hangfire_is_403()
    {
        using var admin = App.ApiClient();
        var email = $"c-{Guid.NewGuid():n}@test.local";
        var user = await (await admin.PostAsJsonAsync("/api/users", new { email, password = "Customer-pass-1", role = "Customer" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var key = (await (await admin.PostAsJsonAsync("/api/api-keys", new { name = "k", userId = user.GetProperty("id").GetString() }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString();

        using var customer = App.ApiClient(key);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_naming_the_field()
    {
        using var admin = App.ApiClient();
        var body = new StringContent("""{"email": 42, "password": "x", "role": "Customer"}""", Encoding.UTF8, "application/json");
        var response = await admin.PostAsync("/api/users", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _), problem.GetRawText());
    }

    [Fact]
    public async Task Invalid_fields_are_named_and_nothing_is_saved()
    {
        using var admin = App.ApiClient();
        var email = $"bad-{Guid.NewGuid():n}@test.local";
        var response = await admin.PostAsJsonAsync("/api/users", new { email, password = "short", role = "Emperor" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("role", out _), errors.GetRawText());

        var weak = await admin.PostAsJsonAsync("/api/users", new { email, password = "short", role = "Customer" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.True((await weak.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("password", out _));

        // The same email is still free: the refused requests left no user behind.
        var ok = await admin.PostAsJsonAsync("/api/users", new { email, password = "Long-enough-1", role = "Customer" });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }

    [Fact]
    public async Task Health_reports_database_and_hangfire()
    {
        using var anonymous = App.ApiClient(apiKey: null);
        var response = await anonymous.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }
}
