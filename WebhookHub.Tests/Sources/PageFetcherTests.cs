using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core;
using WebhookHub.Core.Sources;

namespace WebhookHub.Tests.Sources;

/// <summary>The fetcher against real local servers; time is a <see cref="FakeTimeProvider"/>, so waits and timeouts are advanced, never slept.</summary>
public sealed class PageFetcherTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
    private PageServer _server = null!;

    public async Task InitializeAsync() => _server = await PageServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private PageFetcher Fetcher(
        bool allowHttp = true, bool allowPrivate = true, int maxBytes = 1024 * 1024, int minSecondsPerHost = 0, X509Certificate2? trust = null)
    {
        var options = new WebhookHubOptions
        {
            Delivery = { AllowHttp = allowHttp, AllowPrivateNetworks = allowPrivate },
            Sources = { MaxBytes = maxBytes, MinSecondsPerHost = minSecondsPerHost, TimeoutSeconds = 20 },
        };
        return new PageFetcher(Options.Create(options), _time, NullLogger<PageFetcher>.Instance, handler =>
        {
            if (trust is not null)
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == trust.GetCertHashString();
        });
    }

    private static FetchRequest Get(string url, string? etag = null, string? lastModified = null, Dictionary<string, string>? headers = null) =>
        new(url, headers ?? [], etag, lastModified);

    [Fact]
    public async Task A_200_gives_body_and_validators_and_the_conditional_get_then_gives_304()
    {
        _server.Handle = async context =>
        {
            context.Response.Headers.ETag = "\"v1\"";
            context.Response.Headers.LastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = 304;
                return;
            }
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<p>Fees</p>");
        };
        using var fetcher = Fetcher();

        var first = await fetcher.FetchAsync(Get(_server.Url(), headers: new() { ["Accept-Language"] = "en-GB" }));

        Assert.Equal((200, false, null), (first.StatusCode, first.NotModified, first.Error));
        Assert.Equal("<p>Fees</p>", System.Text.Encoding.UTF8.GetString(first.Body!));
        Assert.Equal("text/html; charset=utf-8", first.ContentType);
        Assert.Equal("\"v1\"", first.ETag);
        Assert.Equal("Tue, 01 Dec 2026 10:00:00 GMT", first.LastModified);

        var second = await fetcher.FetchAsync(Get(_server.Url(), first.ETag, first.LastModified));

        Assert.Equal((304, true, null, null), (second.StatusCode, second.NotModified, second.Body, second.Error));
        Assert.Equal("\"v1\"", second.ETag);
        var (plain, conditional) = (_server.Requests[0], _server.Requests[1]);
        Assert.StartsWith("WebhookHub/", plain["User-Agent"]);
        Assert.Contains("text/html", plain["Accept"]);
        Assert.Contains("application/pdf", plain["Accept"]);
        Assert.Equal("en-GB", plain["Accept-Language"]);
        Assert.False(plain.ContainsKey("If-None-Match"));
        Assert.Equal("\"v1\"", conditional["If-None-Match"]);
        Assert.Equal("Tue, 01 Dec 2026 10:00:00 GMT", conditional["If-Modified-Since"]);
    }

    [Fact]
    public async Task Compressed_pages_are_decompressed()
    {
        _server.Handle = async context =>
        {
            context.Response.Headers.ContentEncoding = "gzip";
            context.Response.ContentType = "text/plain";
            await using var gzip = new GZipStream(context.Response.Body, CompressionLevel.Fastest);
            await gzip.WriteAsync("compressed text"u8.ToArray());
        };
        using var fetcher = Fetcher();

        var result = await fetcher.FetchAsync(Get(_server.Url()));

        Assert.Equal("compressed text", System.Text.Encoding.UTF8.GetString(result.Body!));
        Assert.Contains("gzip", _server.Requests[0]["Accept-Encoding"]);
    }

    [Fact]
    public async Task Redirects_are_followed_up_to_five()
    {
        _server.Handle = context => context.Request.Path.Value switch
        {
            "/old" => Redirect(context, "/newer"),
            "/newer" => Redirect(context, _server.Url("/new")),
            "/loop" => Redirect(context, "/loop"),
            _ => context.Response.WriteAsync("new place"),
        };
        using var fetcher = Fetcher();

        var moved = await fetcher.FetchAsync(Get(_server.Url("/old")));
        var loop = await fetcher.FetchAsync(Get(_server.Url("/loop")));

        Assert.Equal((200, "new place"), (moved.StatusCode, System.Text.Encoding.UTF8.GetString(moved.Body!)));
        Assert.Equal("more than 5 redirects", loop.Error);
        Assert.Equal(3 + 6, _server.Requests.Count);
    }

    [Fact]
    public async Task An_https_page_redirecting_to_http_is_refused_unless_http_is_allowed()
    {
        using var certificate = PageServer.SelfSignedCertificate();
        await using var https = await PageServer.StartAsync(certificate);
        https.Handle = context => Redirect(context, _server.Url("/plain"));
        _server.Handle = context => context.Response.WriteAsync("plain http");

        using (var strict = Fetcher(allowHttp: false, trust: certificate))
        {
            var refused = await strict.FetchAsync(Get(https.Url()));
            Assert.Null(refused.StatusCode);
            Assert.StartsWith($"refused {_server.Url("")}: http is allowed only with", refused.Error);
            Assert.Empty(_server.Requests);
        }

        using var relaxed = Fetcher(allowHttp: true, trust: certificate);
        var followed = await relaxed.FetchAsync(Get(https.Url()));
        Assert.Equal("plain http", System.Text.Encoding.UTF8.GetString(followed.Body!));
    }

    [Fact]
    public async Task A_plain_http_url_is_refused_without_allow_http()
    {
        using var fetcher = Fetcher(allowHttp: false);
        Assert.StartsWith("refused http://127.0.0.1:", (await fetcher.FetchAsync(Get(_server.Url()))).Error);
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_page_larger_than_the_limit_is_refused_not_cut(bool sendsLength)
    {
        _server.Handle = async context =>
        {
            if (sendsLength) context.Response.ContentLength = 5000;
            for (var i = 0; i < 5; i++)
            {
                await context.Response.Body.WriteAsync(new byte[1000]);
                await context.Response.Body.FlushAsync();
            }
        };
        using var fetcher = Fetcher(maxBytes: 2048);

        var result = await fetcher.FetchAsync(Get(_server.Url()));

        Assert.Equal((200, null, "larger than 2 KB"), (result.StatusCode, result.Body, result.Error));
    }

    [Fact]
    public async Task A_page_that_does_not_answer_times_out()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Handle = async context =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        };
        using var fetcher = Fetcher();

        var fetch = fetcher.FetchAsync(Get(_server.Url()));
        await arrived.Task.WaitAsync(Patience);
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(fetch.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await fetch.WaitAsync(Patience);

        Assert.Equal((null, "timed out after 20 s"), (result.StatusCode, result.Error));
    }

    [Fact]
    public async Task A_503_or_429_says_so_with_its_retry_after()
    {
        _server.Handle = context =>
        {
            context.Response.StatusCode = context.Request.Path == "/busy" ? 503 : context.Request.Path == "/slow-down" ? 429 : 500;
            context.Response.Headers.RetryAfter = context.Request.Path == "/busy" ? "120" : _time.GetUtcNow().AddMinutes(1).ToString("R");
            return Task.CompletedTask;
        };
        using var fetcher = Fetcher();

        var busy = await fetcher.FetchAsync(Get(_server.Url("/busy")));
        var slowDown = await fetcher.FetchAsync(Get(_server.Url("/slow-down")));
        var broken = await fetcher.FetchAsync(Get(_server.Url("/broken")));

        Assert.Equal((503, "HTTP 503", TimeSpan.FromSeconds(120)), (busy.StatusCode, busy.Error, busy.RetryAfter));
        Assert.Equal((429, "HTTP 429", TimeSpan.FromMinutes(1)), (slowDown.StatusCode, slowDown.Error, slowDown.RetryAfter));
        Assert.Equal((500, "HTTP 500", (TimeSpan?)null), (broken.StatusCode, broken.Error, broken.RetryAfter));
        Assert.Null(busy.Body);
    }

    [Fact]
    public async Task Loopback_is_refused_at_connect_time_without_allow_private_networks()
    {
        using var fetcher = Fetcher(allowPrivate: false);

        var result = await fetcher.FetchAsync(Get(_server.Url()));

        Assert.Null(result.StatusCode);
        Assert.Equal("Refused to connect to 127.0.0.1: it does not resolve to a public internet address.", result.Error);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_closed_port_says_the_connection_was_refused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var fetcher = Fetcher();

        var result = await fetcher.FetchAsync(Get($"http://127.0.0.1:{port}/"));

        Assert.Equal($"connection to 127.0.0.1:{port} refused", result.Error);
    }

    [Fact]
    public async Task A_host_that_does_not_resolve_says_so()
    {
        using var fetcher = Fetcher();
        Assert.StartsWith("DNS lookup of no-such-host.invalid failed", (await fetcher.FetchAsync(Get("http://no-such-host.invalid/"))).Error);
    }

    [Fact]
    public async Task The_sources_headers_are_sent_and_may_replace_accept_but_never_break_the_request()
    {
        using var fetcher = Fetcher();

        var result = await fetcher.FetchAsync(Get(_server.Url(), headers: new() { ["Accept"] = "text/plain", ["Content-Type"] = "x/y", ["Cookie"] = "consent=yes" }));

        Assert.Null(result.Error);
        Assert.Equal("text/plain", _server.Requests[0]["Accept"]);
        Assert.Equal("consent=yes", _server.Requests[0]["Cookie"]);
        Assert.False(_server.Requests[0].ContainsKey("Content-Type"));
    }

    [Fact]
    public async Task Requests_to_one_host_start_at_least_the_minimum_apart_and_queue()
    {
        await using var other = await PageServer.StartAsync();
        using var fetcher = Fetcher(minSecondsPerHost: 5);

        Assert.Null((await fetcher.FetchAsync(Get(_server.Url()))).Error);
        var second = fetcher.FetchAsync(Get(_server.Url()));
        var third = fetcher.FetchAsync(Get(_server.Url()));
        // Another host (host:port) has its own turn.
        Assert.Null((await fetcher.FetchAsync(Get(other.Url()))).Error);

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(second.IsCompleted);
        Assert.Single(_server.Requests);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Null((await second.WaitAsync(Patience)).Error);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, _server.Requests.Count);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Null((await third.WaitAsync(Patience)).Error);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task A_redirect_to_the_same_host_follows_at_once_but_counts_as_its_latest_request()
    {
        _server.Handle = context => context.Request.Path == "/old" ? Redirect(context, "/new") : context.Response.WriteAsync("moved");
        using var fetcher = Fetcher(minSecondsPerHost: 60);

        Assert.Null((await fetcher.FetchAsync(Get(_server.Url("/old")))).Error);
        var next = fetcher.FetchAsync(Get(_server.Url("/new")));
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(next.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null((await next.WaitAsync(Patience)).Error);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task Waiting_for_a_turn_can_be_cancelled()
    {
        using var fetcher = Fetcher(minSecondsPerHost: 60);
        await fetcher.FetchAsync(Get(_server.Url()));
        using var cancel = new CancellationTokenSource();

        var waiting = fetcher.FetchAsync(Get(_server.Url()), cancel.Token);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience));
    }

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = 302;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }
}
