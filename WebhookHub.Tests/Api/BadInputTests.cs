using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Identity;
using WebhookHub.Tests.Infrastructure;

namespace WebhookHub.Tests.Api;

/// <summary>Bad requests get a clear 4xx naming what is wrong, never a 500, and change nothing.</summary>
public sealed class BadInputTests(BadInputTests.AppFixture fixture) : IClassFixture<BadInputTests.AppFixture>
{
    public sealed class AppFixture : IAsyncLifetime
    {
        public WebhookHubApp App { get; } = new(new Dictionary<string, string?>
        {
            ["WebhookHub:Api:MaxRequestBodyBytes"] = "65536",
        });
        public Task InitializeAsync() { _ = App.BaseAddress; return Task.CompletedTask; }
        public async Task DisposeAsync() => await App.DisposeAsync();
    }

    private WebhookHubApp App => fixture.App;

    private async Task<int> UserCountAsync()
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().Users.CountAsync();
    }

    private async Task<HttpResponseMessage> PostUsersAsync(HttpContent content)
    {
        using var admin = App.ApiClient();
        return await admin.PostAsync("/api/users", content);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "unknown field", """{"email":"a@b.c","password":"Long-enough-1","role":"Customer","isRoot":true}""", "isRoot" },
        { "wrong type", """{"email":["a@b.c"],"password":"Long-enough-1","role":"Customer"}""", "email" },
        { "truncated", """{"email":"a@b.c","password":""", "password" },
        { "not JSON", """email=a@b.c&role=Admin""", "body" },
        { "deeply nested", """{"email":""" + new string('[', 200) + new string(']', 200) + "}", "email" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_json_is_a_400_naming_the_field_and_saves_nothing(string why, string body, string field)
    {
        var before = await UserCountAsync();
        var response = await PostUsersAsync(Json(body));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {response.StatusCode}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{why}: {problem.GetRawText()}");
        Assert.Equal(before, await UserCountAsync());
    }

    [Fact]
    public async Task Invalid_utf8_is_a_400()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"email":"a@b.c","password":"Long-enough-1","role":"Cust""")
            .Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        var response = await PostUsersAsync(content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var before = await UserCountAsync();
        var huge = new string('x', 200_000);
        var response = await PostUsersAsync(Json($$"""{"email":"a@b.c","password":"{{huge}}","role":"Customer"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, await UserCountAsync());
    }

    [Fact]
    public async Task Huge_strings_within_the_body_limit_are_a_400_naming_the_field()
    {
        var response = await PostUsersAsync(JsonContent.Create(new { email = new string('a', 5000) + "@b.c", password = "Long-enough-1", role = "Customer" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _), problem.GetRawText());
    }
}

public sealed class RateLimitTests
{
    [Fact]
    public async Task A_key_over_its_rate_gets_429_with_retry_after_while_another_key_is_served()
    {
        await using var app = new WebhookHubApp(new Dictionary<string, string?>
        {
            ["WebhookHub:Api:RequestsPerSecond"] = "1",
            ["WebhookHub:Api:Burst"] = "3",
        });
        using var admin = app.ApiClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
            statuses.Add((await admin.GetAsync("/api/api-keys")).StatusCode);

        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var limited = await admin.GetAsync("/api/api-keys");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single()) >= 1);

        // The limit is per key: health checks and other clients are not starved by one noisy key.
        using var anonymous = app.ApiClient(apiKey: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
    }
}
