using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Identity;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Api;

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

        /// <summary>A webhook for the rows that address one (update, enable, history), made once.</summary>
        public Guid WebhookId { get; private set; }

        public async Task<Guid> WebhookIdAsync()
        {
            if (WebhookId != Guid.Empty) return WebhookId;
            using var admin = App.ApiClient();
            var created = await admin.PostAsJsonAsync("/api/webhooks", new { name = "bad input target", url = "http://127.0.0.1:9/target" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            WebhookId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            return WebhookId;
        }
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

/// <summary>
/// The same promise on every other endpoint that takes input: webhooks, policy changes, dead letters,
/// history. Each row is one bad request; it must get the status in the row (never a 500), name the
/// field where there is one, and leave the database as it was.
/// </summary>
public sealed class EndpointBadInputTests(BadInputTests.AppFixture fixture) : IClassFixture<BadInputTests.AppFixture>
{
    /// <summary>Stands for invalid UTF-8 bytes in a body row.</summary>
    private const string InvalidUtf8 = "\u0001invalid-utf8";

    private static readonly string Huge = new('x', 20_000);
    private static readonly string TooBig = new('x', 200_000);
    private static readonly string Nested = new string('[', 300) + new string(']', 300);
    private static readonly string ManyIds = string.Join(",", Enumerable.Range(0, 1001).Select(_ => $"\"{Guid.NewGuid()}\""));

    private WebhookHubApp App => fixture.App;

    public static TheoryData<string, string, string, string?, int, string?> Cases => new()
    {
        // why, method, path ({id}: an existing webhook), body, expected status, field named in the problem
        { "webhook: unknown field", "POST", "/api/webhooks", """{"name":"a","url":"http://127.0.0.1:9/h","isRoot":true}""", 400, "isRoot" },
        { "webhook: wrong type", "POST", "/api/webhooks", """{"name":["a"],"url":"http://127.0.0.1:9/h"}""", 400, "name" },
        { "webhook: deeply nested", "POST", "/api/webhooks", $$"""{"name":{{Nested}},"url":"http://127.0.0.1:9/h"}""", 400, "name" },
        { "webhook: truncated", "POST", "/api/webhooks", """{"name":"a","url":""", 400, null },
        { "webhook: huge name", "POST", "/api/webhooks", $$"""{"name":"{{Huge}}","url":"http://127.0.0.1:9/h"}""", 400, "name" },
        { "webhook: huge url", "POST", "/api/webhooks", $$"""{"name":"a","url":"http://127.0.0.1:9/{{Huge}}"}""", 400, "url" },
        { "webhook: huge route", "POST", "/api/webhooks", $$"""{"name":"a","url":"http://127.0.0.1:9/h","routes":["{{Huge}}"]}""", 400, "routes" },
        { "webhook: huge event", "POST", "/api/webhooks", $$"""{"name":"a","url":"http://127.0.0.1:9/h","events":["{{Huge}}"]}""", 400, "events" },
        { "webhook: oversized body", "POST", "/api/webhooks", $$"""{"name":"{{TooBig}}","url":"http://127.0.0.1:9/h"}""", 413, null },
        { "webhook: invalid UTF-8", "POST", "/api/webhooks", InvalidUtf8, 400, null },
        { "webhook update: unknown field", "PUT", "/api/webhooks/{id}", """{"name":"b","url":"http://127.0.0.1:9/h","owner":"me"}""", 400, "owner" },
        { "webhook update: huge name", "PUT", "/api/webhooks/{id}", $$"""{"name":"{{Huge}}","url":"http://127.0.0.1:9/h"}""", 400, "name" },
        { "webhook update: invalid UTF-8", "PUT", "/api/webhooks/{id}", InvalidUtf8, 400, null },
        { "enable: unknown field", "POST", "/api/webhooks/{id}/enable", """{"redeliverFailed":true,"force":1}""", 400, "force" },
        { "enable: wrong type", "POST", "/api/webhooks/{id}/enable", """{"redeliverFailed":"yes"}""", 400, "redeliverFailed" },
        { "change: unknown field", "POST", "/api/policy-changes", """{"route":"r","source":"s","diff":"d","priority":9}""", 400, "priority" },
        { "change: missing diff", "POST", "/api/policy-changes", """{"route":"r","source":"s"}""", 400, "diff" },
        { "change: huge route", "POST", "/api/policy-changes", $$"""{"route":"{{Huge}}","source":"s","diff":"d"}""", 400, "route" },
        { "change: huge source", "POST", "/api/policy-changes", $$"""{"route":"r","source":"{{Huge}}","diff":"d"}""", 400, "source" },
        { "change: huge summary", "POST", "/api/policy-changes", $$"""{"route":"r","source":"s","diff":"d","summary":"{{Huge}}"}""", 400, "summary" },
        { "change: date not a date", "POST", "/api/policy-changes", """{"route":"r","source":"s","diff":"d","detectedAt":"yesterday"}""", 400, "detectedAt" },
        { "change: date in the future", "POST", "/api/policy-changes", """{"route":"r","source":"s","diff":"d","detectedAt":"2999-01-01T00:00:00Z"}""", 400, "detectedAt" },
        { "change: deeply nested", "POST", "/api/policy-changes", $$"""{"route":"r","source":"s","diff":{{Nested}}}""", 400, "diff" },
        { "change: oversized body", "POST", "/api/policy-changes", $$"""{"route":"r","source":"s","diff":"{{TooBig}}"}""", 413, null },
        { "change: invalid UTF-8", "POST", "/api/policy-changes", InvalidUtf8, 400, null },
        { "change: not JSON", "POST", "/api/policy-changes", "route=r&diff=d", 400, null },
        { "dead letters: unknown field", "POST", "/api/dead-letters/retry", """{"webhookId":"{id}","all":true}""", 400, "all" },
        { "dead letters: neither id", "POST", "/api/dead-letters/retry", "{}", 400, "webhookId" },
        { "dead letters: not a guid", "POST", "/api/dead-letters/retry", """{"deliveryIds":["'; DROP TABLE deliveries;--"]}""", 400, "deliveryIds" },
        { "dead letters: too many ids", "POST", "/api/dead-letters/retry", $$"""{"deliveryIds":[{{ManyIds}}]}""", 400, "deliveryIds" },
        { "dead letters: webhook id not a guid", "GET", "/api/dead-letters?webhookId=1%20OR%201=1", null, 400, null },
        { "history: negative page", "GET", "/api/webhooks/{id}/deliveries?page=-1", null, 400, "page" },
        { "history: zero page size", "GET", "/api/webhooks/{id}/deliveries?pageSize=0", null, 400, "pageSize" },
        { "history: enormous page size", "GET", "/api/webhooks/{id}/deliveries?pageSize=100000000", null, 400, "pageSize" },
        { "history: page past int", "GET", "/api/webhooks/{id}/deliveries?page=99999999999", null, 400, null },
        { "history: page beyond any row", "GET", "/api/webhooks/{id}/deliveries?page=2147483647&pageSize=500", null, 400, "page" },
        { "history: unknown status", "GET", "/api/webhooks/{id}/deliveries?status=everything", null, 400, "status" },
        { "history: from not a date", "GET", "/api/webhooks/{id}/deliveries?from=last-week", null, 400, null },
        { "export: unknown format", "GET", "/api/webhooks/{id}/deliveries/export?format=xlsx", null, 400, "format" },
        { "changes: negative page", "GET", "/api/policy-changes?page=-5", null, 400, "page" },
        { "changes: enormous page size", "GET", "/api/policy-changes?pageSize=2147483647", null, 400, "pageSize" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_request_is_a_clear_4xx_naming_the_field_and_changes_nothing(
        string why, string method, string path, string? body, int status, string? field)
    {
        var id = await fixture.WebhookIdAsync();
        var before = await SnapshotAsync();
        using var api = App.ApiClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{id}", id.ToString()));
        if (body is not null) request.Content = Content(body.Replace("{id}", id.ToString()));

        var response = await api.SendAsync(request);

        Assert.True((int)response.StatusCode == status, $"{why}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (field is not null)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{why}: {problem.GetRawText()}");
        }
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Sql_and_script_looking_strings_are_stored_verbatim_and_returned_as_escaped_json()
    {
        const string hostile = "Robert'); DROP TABLE webhooks;-- <script>alert('x')</script> \" OR 1=1 --";
        using var api = App.ApiClient();
        var created = await api.PostAsJsonAsync("/api/webhooks", new { name = hostile, url = "http://127.0.0.1:9/hostile", routes = new[] { hostile } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        // The source must be an http(s) URL (it is rendered as a link), so the hostile text rides in its query.
        var change = await api.PostAsJsonAsync("/api/policy-changes",
            new { route = hostile, source = "https://example.gov/?q=" + Uri.EscapeDataString(hostile), diff = hostile, summary = hostile });
        Assert.Equal(HttpStatusCode.Accepted, change.StatusCode);
        var changeId = (await change.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        using var read = await api.GetAsync($"/api/webhooks/{id}");
        // Data inside a JSON string, served as JSON: a browser never runs it, and Blazor escapes it on render.
        Assert.Equal("application/json", read.Content.Headers.ContentType?.MediaType);
        var webhook = await read.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(hostile, webhook.GetProperty("name").GetString());
        Assert.Equal(hostile, webhook.GetProperty("routes")[0].GetString());
        var stored = await api.GetFromJsonAsync<JsonElement>($"/api/policy-changes/{changeId}");
        Assert.Equal(hostile, stored.GetProperty("summary").GetString());
        Assert.Equal(hostile, stored.GetProperty("diff").GetString());
        // The tables the strings name are intact.
        Assert.Contains((await api.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray(), w => w.GetProperty("id").GetGuid() == id);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/api/webhooks/{id}/deliveries")).StatusCode);
    }

    private static HttpContent Content(string body)
    {
        var bytes = body == InvalidUtf8
            ? Encoding.UTF8.GetBytes("""{"name":"a""").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\",\"url\":\"http://127.0.0.1:9/h\"}")).ToArray()
            : Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    /// <summary>Row counts and the test webhook as stored: what "the database is unchanged" means here.</summary>
    private async Task<string> SnapshotAsync()
    {
        using var scope = App.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHub.Core.Persistence.WebhookHubDbContext>();
        var webhook = await db.Webhooks.AsNoTracking().SingleAsync(w => w.Id == fixture.WebhookId);
        return $"webhooks {await db.Webhooks.CountAsync()}, changes {await db.PolicyChanges.CountAsync()}, "
            + $"events {await db.Events.CountAsync()}, deliveries {await db.Deliveries.CountAsync()}, "
            + $"test webhook {webhook.Name} {webhook.Url} {webhook.IsActive} {webhook.UpdatedAt:o}";
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
