using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Api;

public sealed class WebhookSecretLoggingTests
{
    [Fact]
    public async Task Secrets_never_reach_the_logs_at_any_level()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = new WebhookHubApp { LogSink = logs };
        using var admin = app.ApiClient();

        var created = await (await admin.PostAsJsonAsync("/api/webhooks", new { name = "logged", url = "http://127.0.0.1:9/hooks" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetString()!;
        var secrets = new List<string> { created.GetProperty("secret").GetString()! };
        var rotate = await admin.PostAsync($"/api/webhooks/{id}/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        secrets.Add((await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!);
        var reveal = await admin.PostAsync($"/api/webhooks/{id}/reveal-secret", null);
        Assert.Equal(secrets[1], (await reveal.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());
        await admin.GetStringAsync("/api/webhooks");
        await admin.GetStringAsync($"/api/webhooks/{id}");

        var text = logs.AllText;
        // The sink really saw these requests, at trace level too, so an absence below means something.
        Assert.Contains($"Webhook {id} created", text);
        Assert.Contains($"Secret of webhook {id} rotated", text);
        Assert.Contains($"Secret of webhook {id} revealed", text);
        Assert.Contains("Trace ", text);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret["whsec_".Length..], text);
        }
    }
}
