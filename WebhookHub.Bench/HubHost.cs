using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using WebhookHub.Core.Events;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Persistence;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Bench;

/// <summary>
/// The real WebhookHub app (Program.cs as shipped) on a real Kestrel port, with its SQLite files and
/// Hangfire server in a temp directory (or its tables and Hangfire's in a PostgreSQL database). Only settings differ: the bootstrap key, http to 127.0.0.1,
/// and Warning-level logs (a console line per attempt costs more than the attempt at these rates).
/// </summary>
public sealed class HubHost : WebApplicationFactory<Program>
{
    public const string ApiKey = "whk_bench_admin_key_0123456789abcdef";

    private readonly IReadOnlyDictionary<string, string> _database;

    /// <param name="database">The database's settings (<see cref="BenchDatabase.AppSettings"/>); none: SQLite in <paramref name="dataDirectory"/>.</param>
    public HubHost(string dataDirectory, IReadOnlyDictionary<string, string>? database = null)
    {
        DataDirectory = dataDirectory;
        _database = database ?? new Dictionary<string, string>();
        UseKestrel(0);
    }

    public string DataDirectory { get; }

    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1"));
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseUrls("http://127.0.0.1:0");
        var settings = new Dictionary<string, string>
        {
            ["WebhookHub:DataDirectory"] = DataDirectory,
            ["WebhookHub:Bootstrap:AdminEmail"] = "bench@bench.local",
            ["WebhookHub:Bootstrap:AdminPassword"] = "Bench-pass-123",
            ["WebhookHub:Bootstrap:AdminApiKey"] = ApiKey,
            ["WebhookHub:Delivery:AllowHttp"] = "true",
            ["WebhookHub:Delivery:AllowPrivateNetworks"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:WebhookHub"] = "Warning",
        };
        foreach (var (key, value) in settings.Concat(_database)) builder.UseSetting(key, value);
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    public async Task CreateWebhooksAsync(int count, string route, Func<int, string> url)
    {
        using var scope = Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<WebhookHubDbContext>();
        var protector = scope.ServiceProvider.GetRequiredService<WebhookSecretProtector>();
        var admin = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync("bench@bench.local");
        var now = DateTime.UtcNow;
        for (var i = 0; i < count; i++)
            db.Webhooks.Add(new Webhook
            {
                Id = Guid.CreateVersion7(), UserId = admin!.Id, Name = $"bench {route} {i}", Url = url(i),
                Secret = protector.Protect(WebhookSecret.Generate()), Events = [EventTypes.PolicyChangeDetected], Routes = [route],
                CreatedAt = now, UpdatedAt = now,
            });
        await db.SaveChangesAsync();
    }
}
