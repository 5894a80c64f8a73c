using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>Users made the way an admin makes them: over the API, each with its own API key.</summary>
public static class ApiUsers
{
    public sealed record ApiUser(string Id, string Email, HttpClient Client) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    public static async Task<ApiUser> CreateAsync(WebhookHubApp app, string role = "Customer")
    {
        using var admin = app.ApiClient();
        var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():n}@test.local";
        var created = await admin.PostAsJsonAsync("/api/users", new { email, password = "Customer-pass-1", role });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var key = await admin.PostAsJsonAsync("/api/api-keys", new { name = "tests", userId = id });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var secret = (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return new ApiUser(id, email, app.ApiClient(secret));
    }
}
