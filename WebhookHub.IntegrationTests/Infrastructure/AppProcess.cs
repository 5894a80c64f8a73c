using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// The built app (WebhookHub.Web.dll) as a child process, configured by environment variables the way
/// an operator would, so a test can SIGKILL it (<see cref="Kill"/>) and start it again on the same data.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    public const string AdminApiKey = "whk_crash_admin_key_0123456789abcdef";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the app and waits until /health answers.</summary>
    public static async Task<AppProcess> StartAsync(string dataDirectory, IDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(WebDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(WebDll);
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["WebhookHub__DataDirectory"] = dataDirectory,
            ["WebhookHub__Bootstrap__AdminApiKey"] = AdminApiKey,
            ["WebhookHub__Delivery__AllowHttp"] = "true",
            ["WebhookHub__Delivery__AllowPrivateNetworks"] = "true",
            // One attempt line per delivery would make the output, not the app, the bottleneck.
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) env[key] = value;
        foreach (var (key, value) in env) start.Environment[key] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Generous: on a loaded 2-core machine a cold start has taken close to a minute.
            await app.WaitHealthyAsync(TimeSpan.FromSeconds(180));
        }
        catch
        {
            // Never healthy: the caller never gets it to dispose, so it would outlive the test run.
            await app.DisposeAsync();
            throw;
        }
        return app;
    }

    public IEnumerable<string> Output => _output;

    public HttpClient ApiClient()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminApiKey);
        return client;
    }

    /// <summary>SIGKILL on Linux: no shutdown hooks, no flush, exactly like a power cut to the process.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.Async(async () =>
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"The app exited with {_process.ExitCode}:\n{string.Join('\n', _output)}");
                try
                {
                    return (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false; // not listening yet, or too busy starting to answer within 2 s
                }
            },
            "the app's /health to answer 200", timeout, () => string.Join('\n', _output));
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
    }

    /// <summary>The app's own build output (beside its runtimeconfig), for the configuration the tests were built in.</summary>
    private static string WebDll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = testBin.Name;
            var configuration = testBin.Parent!.Name;
            var root = testBin;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "WebhookHub.sln"))) root = root.Parent;
            if (root is null) throw new InvalidOperationException("WebhookHub.sln not found above " + AppContext.BaseDirectory);
            var dll = Path.Combine(root.FullName, "WebhookHub.Web", "bin", configuration, framework, "WebhookHub.Web.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build WebhookHub.Web first", dll);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
