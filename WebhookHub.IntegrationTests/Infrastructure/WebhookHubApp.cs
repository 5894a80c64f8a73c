using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// The real app on a real Kestrel port (127.0.0.1), with its own data directory of real SQLite files
/// (or its own PostgreSQL database: <see cref="TestDatabase"/>) and a real Hangfire server. Settings are
/// the app's configuration keys (<c>WebhookHub:…</c>).
/// </summary>
public sealed class WebhookHubApp : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@test.local";
    public const string AdminPassword = "Admin-pass-123";
    public const string AdminApiKey = "whk_test_admin_key_0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;

    public WebhookHubApp(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "webhookhub-tests", Guid.NewGuid().ToString("n"));
        _settings = new Dictionary<string, string?>
        {
            ["WebhookHub:DataDirectory"] = DataDirectory,
            ["WebhookHub:Bootstrap:AdminEmail"] = AdminEmail,
            ["WebhookHub:Bootstrap:AdminPassword"] = AdminPassword,
            ["WebhookHub:Bootstrap:AdminApiKey"] = AdminApiKey,
            // Receivers in tests listen on http://127.0.0.1.
            ["WebhookHub:Delivery:AllowHttp"] = "true",
            ["WebhookHub:Delivery:AllowPrivateNetworks"] = "true",
        };
        foreach (var (key, value) in TestDatabase.AppSettings(DataDirectory))
            _settings[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
        UseKestrel(0);
    }

    public string DataDirectory { get; }

    /// <summary>On PostgreSQL, start on an empty database rather than a copy of the schema (<see cref="TestDatabase.EnsureCreated"/>).</summary>
    public bool EmptyDatabase { get; init; }

    /// <summary>Leave the data directory (and its database) on dispose, for a second start on the same data.</summary>
    public bool KeepData { get; init; }

    /// <summary>An extra log sink that sees every category at every level (to prove what never gets logged).</summary>
    public ILoggerProvider? LogSink { get; init; }

    /// <summary>Where the app listens, e.g. <c>http://127.0.0.1:41234</c>.</summary>
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
        TestDatabase.EnsureCreated(DataDirectory, empty: EmptyDatabase);
        builder.UseEnvironment("Testing");
        builder.UseUrls("http://127.0.0.1:0");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        if (LogSink is { } sink)
            builder.ConfigureLogging(logging => logging
                .AddProvider(sink)
                .Services.Configure<LoggerFilterOptions>(filters =>
                    filters.Rules.Add(new LoggerFilterRule(sink.GetType().FullName, null, LogLevel.Trace, null))));
    }

    /// <summary>An HTTP client to the real port, authenticated with an API key (the bootstrap admin's by default).</summary>
    public HttpClient ApiClient(string? apiKey = AdminApiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            // Also after a start that failed: its database was made before the host threw.
            if (!KeepData)
            {
                TryDelete(DataDirectory);
                await TestDatabase.DropAsync(DataDirectory);
            }
        }
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { /* a file still open on a slow shutdown; the temp folder is disposable */ }
        catch (UnauthorizedAccessException) { }
    }
}
