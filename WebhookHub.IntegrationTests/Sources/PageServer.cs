using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Sources;

/// <summary>
/// A real web site on 127.0.0.1 (Kestrel) serving one page whose HTML the test edits. It answers conditional GETs as
/// a well-behaved server does (an ETag from the content; <c>If-None-Match</c> with it gets a 304), and can be made to
/// fail (<see cref="FailWith"/>). Every request is recorded with its headers.
/// </summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private volatile string _html = "<html><body><main><p>Nothing yet.</p></main></body></html>";
    private volatile int _failWith;
    private volatile int _retryAfterSeconds;
    private volatile int _delayMs;

    private PageServer(WebApplication app) => _app = app;

    public static async Task<PageServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new PageServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    /// <summary>The page's address; the path is only for reading logs.</summary>
    public string Url => _app.Urls.First() + "/policy";

    /// <summary>The page as served from now on.</summary>
    public string Html
    {
        get => _html;
        set => _html = value;
    }

    /// <summary>A page with the body's HTML inside a <c>main</c> element, as policy pages have a header and footer around it.</summary>
    public void Serve(string mainHtml) =>
        Html = $"<html><head><title>Policy</title></head><body><nav><a href=\"/\">Home</a></nav><main>{mainHtml}</main><footer>© Gov</footer></body></html>";

    /// <summary>Answers every request with this status (no body, a <c>Retry-After</c> when given) until <see cref="Recover"/>.</summary>
    public void FailWith(int statusCode, int? retryAfterSeconds = null)
    {
        _retryAfterSeconds = retryAfterSeconds ?? 0;
        _failWith = statusCode;
    }

    /// <summary>How long every answer takes from now on (a slow site).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromMilliseconds(_delayMs);
        set => _delayMs = (int)value.TotalMilliseconds;
    }

    public void Recover() => _failWith = 0;

    /// <summary>The validator the current page is served with.</summary>
    public string ETag => ETagOf(_html);

    private static string ETagOf(string html) => "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(html)))[..16] + "\"";

    public IReadOnlyList<ReceivedRequest> Requests => _requests.ToArray();

    private async Task HandleAsync(HttpContext context)
    {
        _requests.Enqueue(new ReceivedRequest(DateTimeOffset.UtcNow, context.Request.Method, context.Request.Path.Value ?? "/",
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), []));
        if (_delayMs > 0) await Task.Delay(_delayMs);
        if (_failWith != 0)
        {
            context.Response.StatusCode = _failWith;
            if (_retryAfterSeconds > 0) context.Response.Headers.RetryAfter = _retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return;
        }
        var html = _html;
        var etag = ETagOf(html);
        context.Response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
