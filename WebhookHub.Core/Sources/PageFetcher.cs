using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Delivery;

namespace WebhookHub.Core.Sources;

public sealed record FetchRequest(string Url, IReadOnlyDictionary<string, string> Headers, string? ETag = null, string? LastModified = null);

/// <param name="StatusCode">Null when no response came (DNS, connect, timeout).</param>
/// <param name="Body">The body of a 2xx, at most <see cref="SourceOptions.MaxBytes"/>; null otherwise.</param>
/// <param name="ContentType">The 2xx's Content-Type as sent, charset included.</param>
/// <param name="ETag">The response's validator, to send back next time; on a 304 without one, the request's.</param>
/// <param name="RetryAfter">The server's Retry-After on a 429 or 503, when it gave one (a date in the past is zero).</param>
/// <param name="Error">Null on a 2xx or 304; otherwise one line a person can act on ("HTTP 503", "timed out after 20 s", "larger than 5 MB").</param>
/// <param name="Duration">From the first request to the last byte; the wait for the host's turn is not in it.</param>
public sealed record FetchResult(
    int? StatusCode, bool NotModified, byte[]? Body, string? ContentType, string? ETag, string? LastModified, TimeSpan? RetryAfter, string? Error,
    TimeSpan Duration);

/// <summary>
/// Fetches a source's page politely: a descriptive User-Agent, conditional GET, size and time limits, and the same
/// connect-time address policy as webhook deliveries.
/// <para>
/// Redirects are followed here, at most <see cref="MaxRedirects"/>, each hop held to the scheme rule (https; http
/// only with <c>Delivery:AllowHttp</c>). Requests to one host (host:port) start at least
/// <see cref="SourceOptions.MinSecondsPerHost"/> apart from this node, whatever the sources' schedules say; a
/// request waits for its host's turn, and requests to one host queue. A redirect to the host that sent it follows at
/// once (the server asked for it) but counts as that host's latest request. The time limit applies to each hop's
/// request and body.
/// </para>
/// </summary>
public sealed class PageFetcher : IDisposable
{
    public const int MaxRedirects = 5;

    private readonly SourceOptions _options;
    private readonly bool _allowHttp;
    private readonly TimeProvider _time;
    private readonly ILogger<PageFetcher> _logger;
    private readonly HttpClient _client;
    private readonly HostTurns _turns;

    public PageFetcher(IOptions<WebhookHubOptions> options, TimeProvider time, ILogger<PageFetcher> logger)
        : this(options, time, logger, configureHandler: null)
    {
    }

    /// <param name="configureHandler">For tests: e.g. trust a test server's self-signed certificate.</param>
    internal PageFetcher(IOptions<WebhookHubOptions> options, TimeProvider time, ILogger<PageFetcher> logger, Action<SocketsHttpHandler>? configureHandler)
    {
        _options = options.Value.Sources;
        var delivery = options.Value.Delivery;
        _allowHttp = delivery.AllowHttp;
        _time = time;
        _logger = logger;
        _turns = new HostTurns(time, TimeSpan.FromSeconds(Math.Max(0, _options.MinSecondsPerHost)));
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // A proxy would make the connect-time address check meaningless.
            UseProxy = false,
            UseCookies = false,
            // Pages are text: compressed transfer saves the servers' bandwidth; the size limit counts decompressed bytes.
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, _options.TimeoutSeconds)),
            ConnectCallback = (context, ct) => WebhookSender.ConnectAsync(context, delivery.AllowPrivateNetworks, ct),
        };
        configureHandler?.Invoke(handler);
        // The time limit is ours (TimeProvider), per hop.
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<FetchResult> FetchAsync(FetchRequest request, CancellationToken ct = default)
    {
        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url)) return Failed(null, $"'{request.Url}' is not an absolute URL", TimeSpan.Zero);
        long? started = null;
        Uri? previous = null;
        for (var hop = 0; ; hop++)
        {
            if (SchemeError(url) is { } schemeError) return Failed(null, schemeError, Elapsed(started));
            var followsAtOnce = previous is not null && HostKey(previous) == HostKey(url);
            var wait = _turns.Reserve(HostKey(url), followsAtOnce);
            if (wait > TimeSpan.Zero)
            {
                _logger.LogDebug("Waiting {Wait} for the turn of {Host}", wait, HostKey(url));
                await Task.Delay(wait, _time, ct);
            }
            started ??= _time.GetTimestamp();

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds), _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            HttpResponseMessage response;
            try
            {
                using var message = Prepare(url, request, sameHostAsRequested: HostKey(url) == HostKey(new Uri(request.Url)));
                response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            }
            catch (Exception e) when (ReasonFor(e, url, ct) is { } reason)
            {
                return Failed(null, reason, Elapsed(started));
            }

            using (response)
            {
                var code = (int)response.StatusCode;
                if (code is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects) return Failed(code, $"more than {MaxRedirects} redirects", Elapsed(started));
                    previous = url;
                    url = new Uri(url, location);
                    continue;
                }
                if (code == 304) return NotModified(response, request, Elapsed(started));
                if (code is < 200 or >= 300)
                {
                    var retryAfter = code is 429 or 503 ? RetryAfter(response.Headers.RetryAfter) : null;
                    return new FetchResult(code, false, null, null, null, null, retryAfter, $"HTTP {code}", Elapsed(started));
                }
                try
                {
                    var body = await ReadAsync(response.Content, linked.Token);
                    if (body is null) return Failed(code, $"larger than {Size(_options.MaxBytes)}", Elapsed(started));
                    var duration = Elapsed(started);
                    _logger.LogDebug("Fetched {Url}: HTTP {Status}, {Bytes} bytes in {Duration}", url, code, body.Length, duration);
                    return new FetchResult(code, false, body, response.Content.Headers.ContentType?.ToString(),
                        response.Headers.ETag?.ToString(), Header(response.Content.Headers, "Last-Modified"), null, null, duration);
                }
                catch (Exception e) when (ReasonFor(e, url, ct) is { } reason)
                {
                    return Failed(code, reason, Elapsed(started));
                }
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private string? SchemeError(Uri url) => url.Scheme switch
    {
        "https" => null,
        "http" when _allowHttp => null,
        "http" => $"refused {url.GetLeftPart(UriPartial.Authority)}: http is allowed only with WebhookHub:Delivery:AllowHttp",
        _ => $"refused {url}: only http(s) URLs are fetched",
    };

    private HttpRequestMessage Prepare(Uri url, FetchRequest request, bool sameHostAsRequested)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, url);
        message.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
        message.Headers.TryAddWithoutValidation("Accept", "text/html, application/xhtml+xml, text/plain;q=0.9, application/pdf;q=0.9, */*;q=0.1");
        foreach (var (name, value) in request.Headers)
        {
            // Like a browser, credentials stay with the site they were given for.
            if (!sameHostAsRequested && (name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) || name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
                continue;
            // The source's own Accept or User-Agent replaces ours; a header that cannot go on a GET (Content-Type…) is left out.
            if (name.Equals("Accept", StringComparison.OrdinalIgnoreCase) || name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase))
                message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (!string.IsNullOrEmpty(request.ETag)) message.Headers.TryAddWithoutValidation("If-None-Match", request.ETag);
        if (!string.IsNullOrEmpty(request.LastModified)) message.Headers.TryAddWithoutValidation("If-Modified-Since", request.LastModified);
        return message;
    }

    /// <summary>The body, or null when it is larger than <see cref="SourceOptions.MaxBytes"/>: never cut, a cut page would read as a change.</summary>
    private async Task<byte[]?> ReadAsync(HttpContent content, CancellationToken ct)
    {
        var max = _options.MaxBytes;
        if (content.Headers.ContentLength > max) return null;
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + read > max) return null;
            body.Write(buffer, 0, read);
        }
        return body.ToArray();
    }

    private FetchResult NotModified(HttpResponseMessage response, FetchRequest request, TimeSpan duration) =>
        new(304, true, null, null, response.Headers.ETag?.ToString() ?? request.ETag,
            Header(response.Content.Headers, "Last-Modified") ?? request.LastModified, null, null, duration);

    private static FetchResult Failed(int? code, string error, TimeSpan duration) => new(code, false, null, null, null, null, null, error, duration);

    private TimeSpan Elapsed(long? started) => started is { } s ? _time.GetElapsedTime(s) : TimeSpan.Zero;

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    /// <summary>Why a request failed, as one sentence; null for the caller's own cancellation (it propagates).</summary>
    private string? ReasonFor(Exception e, Uri url, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return null;
        var host = url.IdnHost;
        if (e is OperationCanceledException) return $"timed out after {_options.TimeoutSeconds} s";
        if (WebhookSender.FindRefusal(e) is { } refusal) return refusal.Message;
        if (e is not (HttpRequestException or IOException or InvalidDataException)) return null;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } dns:
                    return $"DNS lookup of {host} failed: {dns.Message}";
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"connection to {host}:{url.Port} refused";
                case SocketException socket:
                    return $"could not connect to {host}:{url.Port}: {socket.Message}";
                case AuthenticationException tls:
                    return $"TLS with {host} failed: {tls.Message}";
            }
        }
        return $"network error talking to {host}: {e.Message}";
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string HostKey(Uri url) => $"{url.IdnHost}:{url.Port}";

    private static string Size(int bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{(bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} MB",
        >= 1024 => $"{(bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture)} KB",
        _ => $"{bytes} bytes",
    };

    /// <summary>When each host's next request may start; a reservation is taken in order, so requests to one host queue.</summary>
    private sealed class HostTurns(TimeProvider time, TimeSpan spacing)
    {
        private const int PruneAbove = 1000;
        private readonly Lock _lock = new();
        private readonly Dictionary<string, DateTimeOffset> _next = new(StringComparer.OrdinalIgnoreCase);

        /// <returns>How long to wait before starting; with <paramref name="now"/> none, but the turn is taken all the same.</returns>
        public TimeSpan Reserve(string host, bool now)
        {
            lock (_lock)
            {
                var current = time.GetUtcNow();
                var taken = _next.TryGetValue(host, out var next) && next > current;
                var turn = taken && !now ? next : current;
                // A redirect's hop goes first but must not give away a turn a queued request already holds.
                _next[host] = taken && next > turn + spacing ? next : turn + spacing;
                if (_next.Count > PruneAbove)
                {
                    foreach (var (key, _) in _next.Where(entry => entry.Value <= current).ToList()) _next.Remove(key);
                }
                return turn - current;
            }
        }
    }
}
