using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace WebhookHub.IntegrationTests.Reliability;

/// <summary>The few API calls and database reads the reliability tests share.</summary>
public static class Hub
{
    public static async Task<Guid> CreateWebhookAsync(HttpClient api, string url, string? route = null)
    {
        var response = await api.PostAsJsonAsync("/api/webhooks", new
        {
            name = "reliability " + url,
            url,
            routes = route is null ? null : new[] { route },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public static async Task<Guid> PostChangeAsync(HttpClient api, string route = "uk-student-visa")
    {
        var response = await api.PostAsJsonAsync("/api/policy-changes", new
        {
            route,
            source = "https://example.gov/" + route,
            diff = "--- a\n+++ b\n-old\n+new\n",
            summary = "reliability test",
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>The policy change a received delivery is about, from its body.</summary>
    public static string ChangeIdOf(Infrastructure.ReceivedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body);
        return body.RootElement.GetProperty("data").GetProperty("policyChangeId").GetString()!;
    }

    /// <summary>One number from the app's database (SQLite or PostgreSQL: portable SQL), read beside the running app.</summary>
    public static long Scalar(string dataDirectory, string sql)
    {
        using var db = Infrastructure.TestDatabase.OpenReadOnly(dataDirectory);
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    /// <summary>
    /// <see cref="Infrastructure.Eventually.True"/> under its old name, for tests written against it on other
    /// branches (issue 11's crash loop); new tests call <see cref="Infrastructure.Eventually"/>.
    /// </summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        Infrastructure.Eventually.True(condition, "the awaited state", timeout, describe);
}
