using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Identity;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Foundation;

public sealed class StartupTests
{
    [Fact]
    public async Task First_start_on_an_empty_data_directory_creates_every_table()
    {
        await using var app = new WebhookHubApp { EmptyDatabase = true };
        _ = app.BaseAddress;

        // Data Protection keys: files under the data directory on SQLite, a table every node reads on PostgreSQL.
        if (TestDatabase.IsPostgres)
            Assert.Equal(1, Reliability.Hub.Scalar(app.DataDirectory, "SELECT count(*) FROM data_protection_keys"));
        else
            Assert.True(Directory.Exists(Path.Combine(app.DataDirectory, "keys")), "Data Protection keys live under the data directory");
        // A missing table throws ("no such table", "relation does not exist"). Quoted names read the same on
        // SQLite and on PostgreSQL, where AspNetUsers is case-sensitive.
        foreach (var table in new[] { "webhooks", "policy_changes", "webhook_events", "deliveries", "webhook_deliveries", "api_keys", "AspNetUsers", "AspNetRoles", "AspNetUserRoles" })
            Reliability.Hub.Scalar(app.DataDirectory, $"SELECT count(*) FROM \"{table}\"");
        // Hangfire's own tables: in their schema on PostgreSQL (on SQLite, hangfire.db: the next test).
        if (TestDatabase.IsPostgres)
            Reliability.Hub.Scalar(app.DataDirectory, "SELECT count(*) FROM hangfire.job");
    }

    [SqliteOnlyFact("the SQLite provider's files: app.db and Hangfire's own hangfire.db in the data directory")]
    public async Task On_SQLite_the_data_directory_holds_app_db_and_hangfire_db()
    {
        await using var app = new WebhookHubApp();
        _ = app.BaseAddress;

        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "app.db")));
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "hangfire.db")), "Hangfire keeps its own file");
    }

    [Fact]
    public async Task Two_starts_on_the_same_data_directory_give_one_admin_and_the_same_working_key()
    {
        var directory = Path.Combine(Path.GetTempPath(), "webhookhub-tests", Guid.NewGuid().ToString("n"));
        for (var start = 1; start <= 2; start++)
        {
            await using var app = new WebhookHubApp(dataDirectory: directory) { KeepData = start == 1 };
            using (var client = app.ApiClient())
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/api-keys")).StatusCode);

            using (var scope = app.Services.CreateScope())
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
                var admin = Assert.Single(await users.GetUsersInRoleAsync(Roles.Admin));
                Assert.Equal(WebhookHubApp.AdminEmail, admin.Email);
            }
            using (var client = app.ApiClient())
            {
                var keys = await client.GetFromJsonAsync<List<object>>("/api/api-keys");
                Assert.Single(keys!); // the bootstrap key was not added twice
            }
        }
    }
}
