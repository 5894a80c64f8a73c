using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Delivery;
using WebhookHub.Core.Events;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Api;

/// <summary>Webhook CRUD, access rules and secret handling over HTTP on the real port (http and loopback allowed).</summary>
public sealed class WebhooksApiTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private WebhookHubApp App => fixture.App;

    private static string ReceiverUrl() => $"http://127.0.0.1:9/hooks/{Guid.NewGuid():n}";

    private static async Task<JsonElement> CreateAsync(HttpClient client, object? body = null)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", body ?? new { name = "orders", url = ReceiverUrl() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Create_read_list_replace_and_delete_round_trip()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var url = ReceiverUrl();

        var response = await customer.Client.PostAsJsonAsync("/api/webhooks", new { name = "  Visa updates ", url });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal($"/api/webhooks/{id}", response.Headers.Location?.ToString());
        Assert.Equal("Visa updates", created.GetProperty("name").GetString());
        Assert.Equal(url, created.GetProperty("url").GetString());
        Assert.Equal(customer.Id, created.GetProperty("userId").GetString());
        Assert.Equal(EventTypes.Subscribable, created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(created.GetProperty("routes").EnumerateArray());
        Assert.True(created.GetProperty("isActive").GetBoolean());
        Assert.StartsWith("whsec_", created.GetProperty("secret").GetString());

        var read = await customer.Client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");
        Assert.Equal("Visa updates", read.GetProperty("name").GetString());
        // Read back from the database, the date must still say it is UTC.
        Assert.EndsWith("Z", read.GetProperty("createdAt").GetString());
        Assert.Equal(created.GetProperty("createdAt").GetDateTimeOffset(), read.GetProperty("createdAt").GetDateTimeOffset());
        var listed = Assert.Single((await customer.Client.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray());
        Assert.Equal(id, listed.GetProperty("id").GetString());

        var newUrl = ReceiverUrl();
        var put = await customer.Client.PutAsJsonAsync($"/api/webhooks/{id}", new
        {
            name = "Renamed", url = newUrl, events = new[] { EventTypes.PolicyChangeDetected },
            routes = new[] { " uk-student-visa ", "UK-STUDENT-VISA", "us-h1b" }, isActive = false,
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var replaced = await customer.Client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");
        Assert.Equal("Renamed", replaced.GetProperty("name").GetString());
        Assert.Equal(newUrl, replaced.GetProperty("url").GetString());
        Assert.Equal(["uk-student-visa", "us-h1b"], replaced.GetProperty("routes").EnumerateArray().Select(r => r.GetString()));
        Assert.False(replaced.GetProperty("isActive").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await customer.Client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await customer.Client.GetAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Empty((await customer.Client.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await customer.Client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task Another_customers_webhook_is_404_for_every_verb_and_stays_untouched()
    {
        using var owner = await ApiUsers.CreateAsync(App);
        using var intruder = await ApiUsers.CreateAsync(App);
        var created = await CreateAsync(owner.Client);
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;

        var attempts = new Dictionary<string, HttpResponseMessage>
        {
            ["GET"] = await intruder.Client.GetAsync($"/api/webhooks/{id}"),
            ["PUT"] = await intruder.Client.PutAsJsonAsync($"/api/webhooks/{id}", new { name = "mine now", url = ReceiverUrl() }),
            ["DELETE"] = await intruder.Client.DeleteAsync($"/api/webhooks/{id}"),
            ["rotate"] = await intruder.Client.PostAsync($"/api/webhooks/{id}/rotate-secret", null),
            ["reveal"] = await intruder.Client.PostAsync($"/api/webhooks/{id}/reveal-secret", null),
        };
        foreach (var (verb, response) in attempts)
        {
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{verb}: {response.StatusCode}");
            Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync());
        }
        Assert.Empty((await intruder.Client.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray());

        var still = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");
        Assert.Equal(created.GetProperty("name").GetString(), still.GetProperty("name").GetString());
        var revealed = await (await owner.Client.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(secret, revealed.GetProperty("secret").GetString());
    }

    [Fact]
    public async Task Admin_sees_every_customers_webhook_with_its_owner_and_operator_may_look_but_not_change()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        using var operatorUser = await ApiUsers.CreateAsync(App, "Operator");
        var id = (await CreateAsync(customer.Client)).GetProperty("id").GetString()!;

        using var admin = App.ApiClient();
        var mine = (await admin.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray().Single(w => w.GetProperty("id").GetString() == id);
        Assert.Equal(customer.Id, mine.GetProperty("userId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).StatusCode);

        Assert.Contains((await operatorUser.Client.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray(), w => w.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await operatorUser.Client.GetAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorUser.Client.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorUser.Client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_secret_is_shown_on_create_rotate_and_reveal_only()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var created = await CreateAsync(customer.Client);
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);

        var list = await customer.Client.GetStringAsync("/api/webhooks");
        var get = await customer.Client.GetStringAsync($"/api/webhooks/{id}");
        var put = await (await customer.Client.PutAsJsonAsync($"/api/webhooks/{id}", new { name = "n", url = ReceiverUrl() })).Content.ReadAsStringAsync();
        foreach (var body in new[] { list, get, put })
        {
            Assert.Contains(id, body);
            Assert.DoesNotContain(secret, body);
            Assert.DoesNotContain("\"secret\"", body);
        }

        var revealed = await (await customer.Client.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(secret, revealed.GetProperty("secret").GetString());
    }

    [Fact]
    public async Task Rotation_returns_a_new_secret_and_the_old_one_signs_on_for_the_overlap()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var created = await CreateAsync(customer.Client);
        var id = created.GetProperty("id").GetString()!;
        var oldSecret = created.GetProperty("secret").GetString()!;

        var response = await customer.Client.PostAsync($"/api/webhooks/{id}/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = await response.Content.ReadFromJsonAsync<JsonElement>();
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", newSecret);
        Assert.NotEqual(oldSecret, newSecret);
        var expiry = rotated.GetProperty("previousSecretExpiresAt").GetDateTimeOffset().UtcDateTime;
        Assert.InRange(expiry - DateTime.UtcNow, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));

        var revealed = await (await customer.Client.PostAsync($"/api/webhooks/{id}/reveal-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(newSecret, revealed.GetProperty("secret").GetString());

        await using var scope = App.Services.CreateAsyncScope();
        var webhook = await scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>().Webhooks.FindAsync(Guid.Parse(id));
        var protector = scope.ServiceProvider.GetRequiredService<WebhookSecretProtector>();
        Assert.Equal([newSecret, oldSecret], protector.SigningSecrets(webhook!, DateTime.UtcNow));
        Assert.Equal([newSecret], protector.SigningSecrets(webhook!, expiry.AddSeconds(1)));
    }

    [Fact]
    public async Task The_database_row_holds_the_secret_encrypted_never_in_clear()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var url = ReceiverUrl();
        var created = await CreateAsync(customer.Client, new { name = "db check", url });
        var id = Guid.Parse(created.GetProperty("id").GetString()!);
        var first = created.GetProperty("secret").GetString()!;
        var rotated = await (await customer.Client.PostAsync($"/api/webhooks/{id}/rotate-secret", null)).Content.ReadFromJsonAsync<JsonElement>();
        var second = rotated.GetProperty("secret").GetString()!;

        var row = new StringBuilder();
        string? storedSecret = null;
        await using (var db = TestDatabase.OpenReadOnly(App.DataDirectory))
        {
            await using var command = db.CreateCommand();
            command.CommandText = "SELECT * FROM webhooks WHERE url = @url";
            var parameter = command.CreateParameter();
            parameter.ParameterName = "url";
            parameter.Value = url;
            command.Parameters.Add(parameter);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), "the webhook row exists");
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row.Append(reader.GetName(i)).Append('=').Append(reader.IsDBNull(i) ? "" : reader.GetValue(i)).Append('\n');
                if (reader.GetName(i) == "secret") storedSecret = reader.GetString(i);
            }
        }

        Assert.Contains(url, row.ToString());
        foreach (var secret in new[] { first, second })
        {
            Assert.DoesNotContain(secret, row.ToString());
            Assert.DoesNotContain(secret["whsec_".Length..], row.ToString());
        }
        // What is stored is the secret, encrypted: Data Protection gives it back.
        await using var scope = App.Services.CreateAsyncScope();
        Assert.Equal(second, scope.ServiceProvider.GetRequiredService<WebhookSecretProtector>().Unprotect(storedSecret!));
    }

    [Fact]
    public async Task Invalid_fields_are_each_named_and_nothing_is_saved()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var response = await customer.Client.PostAsJsonAsync("/api/webhooks", new
        {
            name = " ", url = "not a url", events = new[] { "webhook.test", "nope" }, routes = new[] { "ok", "  " },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "url", "events", "routes" })
            Assert.True(errors.TryGetProperty(field, out _), $"{field} missing from {errors.GetRawText()}");

        var tooMany = await customer.Client.PostAsJsonAsync("/api/webhooks", new
        {
            name = new string('n', 201), url = ReceiverUrl(), events = Array.Empty<string>(),
            routes = Enumerable.Range(0, 101).Select(i => $"r{i}").ToArray(),
        });
        var tooManyErrors = (await tooMany.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["events", "name", "routes"], tooManyErrors.EnumerateObject().Select(p => p.Name).Order());
        Assert.Empty((await customer.Client.GetFromJsonAsync<JsonElement>("/api/webhooks")).EnumerateArray());
    }

    [Fact]
    public async Task Deleting_cancels_unfinished_deliveries_and_keeps_the_history()
    {
        using var customer = await ApiUsers.CreateAsync(App);
        var id = Guid.Parse((await CreateAsync(customer.Client)).GetProperty("id").GetString()!);
        var statuses = new[] { DeliveryStatus.Pending, DeliveryStatus.Retrying, DeliveryStatus.Success, DeliveryStatus.Failed };
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            foreach (var status in statuses)
            {
                var eventId = $"evt_{Guid.NewGuid():n}";
                db.Events.Add(new WebhookEvent { Id = eventId, Type = EventTypes.WebhookTest, Payload = "{}", CreatedAt = DateTime.UtcNow });
                db.Deliveries.Add(new WebhookHub.Core.Delivery.Delivery { Id = Guid.NewGuid(), WebhookId = id, EventId = eventId, EventType = EventTypes.WebhookTest, Status = status });
            }
            await db.SaveChangesAsync();
        }

        Assert.Equal(HttpStatusCode.NoContent, (await customer.Client.DeleteAsync($"/api/webhooks/{id}")).StatusCode);

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
            var after = db.Deliveries.Where(d => d.WebhookId == id).Select(d => d.Status).AsEnumerable().Order().ToArray();
            Assert.Equal([DeliveryStatus.Success, DeliveryStatus.Failed, DeliveryStatus.Cancelled, DeliveryStatus.Cancelled], after);
            var webhook = await db.Webhooks.FindAsync(id);
            Assert.NotNull(webhook!.DeletedAt);
            Assert.False(webhook.IsActive);
            Assert.False(webhook.Wants(EventTypes.PolicyChangeDetected, null));

            // Admins still reach the deleted webhook for its history; its owner does not.
            var service = scope.ServiceProvider.GetRequiredService<WebhookService>();
            Assert.NotNull(await service.GetAsync(new WebhookCaller("admin", IsAdmin: true, SeesEverything: true), id, includeDeleted: true));
            Assert.Null(await service.GetAsync(new WebhookCaller(customer.Id, false, false), id, includeDeleted: true));
        }
    }

    [Fact]
    public async Task OpenApi_document_lists_every_webhook_endpoint_with_its_error_responses()
    {
        using var anonymous = App.ApiClient(apiKey: null);
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        var expected = new (string Path, string Method, string[] Codes)[]
        {
            ("/api/webhooks", "get", ["200", "401"]),
            ("/api/webhooks", "post", ["201", "400", "401"]),
            ("/api/webhooks/{id}", "get", ["200", "401", "404"]),
            ("/api/webhooks/{id}", "put", ["200", "400", "401", "403", "404"]),
            ("/api/webhooks/{id}", "delete", ["204", "401", "403", "404"]),
            ("/api/webhooks/{id}/rotate-secret", "post", ["200", "401", "403", "404"]),
            ("/api/webhooks/{id}/reveal-secret", "post", ["200", "401", "403", "404"]),
        };
        foreach (var (path, method, codes) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} missing");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method} {path} missing");
            var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            foreach (var code in codes)
                Assert.True(responses.Contains(code), $"{method} {path} lacks {code}: has {string.Join(",", responses)}");
        }

        var schemas = document.GetProperty("components").GetProperty("schemas");
        var required = schemas.GetProperty("WebhookInput").GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order();
        Assert.Equal(["name", "url"], required);
        Assert.False(schemas.GetProperty("WebhookResponse").GetProperty("properties").TryGetProperty("secret", out _));
        Assert.True(schemas.GetProperty("WebhookWithSecretResponse").GetProperty("properties").TryGetProperty("secret", out _));
    }
}
