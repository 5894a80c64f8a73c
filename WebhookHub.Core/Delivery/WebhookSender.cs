using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Options;
using WebhookHub.Core.Signing;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Core.Delivery;

/// <summary>Everything one attempt needs; <see cref="Body"/> is the stored payload, sent byte for byte.</summary>
public sealed record AttemptRequest(
    Guid DeliveryId, string EventId, string EventType, string Url, byte[] Body, IReadOnlyList<string> Secrets, int AttemptNumber);

/// <summary>
/// Performs one signed POST (DESIGN.md §4): prepare (body, headers, signatures with this attempt's
/// timestamp) → send (no redirects, timeout, SSRF check at connect time) → an <see cref="AttemptOutcome"/>.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, RetryPolicy retryPolicy, IOptions<WebhookHubOptions> options, TimeProvider time)
{
    public const string ClientName = "webhooks";
    public const int MaxResponseBytes = 4096;

    public static readonly string UserAgent = "WebhookHub/" +
        (typeof(WebhookSender).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0");

    /// <summary>The pooled handler behind <see cref="ClientName"/>; see AddWebhookHubCore.</summary>
    public static SocketsHttpHandler CreateHandler(DeliveryOptions delivery) => new()
    {
        AllowAutoRedirect = false,
        // A proxy would make the connect-time address check meaningless.
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = delivery.MaxConnectionsPerServer,
        // Recycle pooled connections so that a DNS change reaches the address check within minutes.
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, delivery.TimeoutSeconds)),
        ConnectCallback = (context, ct) => ConnectAsync(context, delivery.AllowPrivateNetworks, ct),
    };

    public async Task<AttemptOutcome> SendAsync(AttemptRequest request, CancellationToken ct)
    {
        using var message = Prepare(request);
        var timeoutSeconds = options.Value.Delivery.TimeoutSeconds;
        var started = time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            var client = clients.CreateClient(ClientName);
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadCappedAsync(response.Content, timeout.Token);
            var duration = Elapsed(started);
            var code = (int)response.StatusCode;
            if (code is >= 200 and < 300) return new AttemptOutcome.Succeeded(code, body, duration);
            var reason = $"HTTP {code} {response.ReasonPhrase}".TrimEnd();
            if (code is >= 300 and < 400 && response.Headers.Location is { } location)
                reason += $" (redirect to {location} not followed)";
            return new AttemptOutcome.Failed(reason, code, body, duration, RetryPolicy.IsRetryable(code),
                RetryPolicy.IsRetryable(code) ? retryPolicy.RetryAfter(response.Headers.RetryAfter) : null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new AttemptOutcome.Failed($"Timed out after {timeoutSeconds} s", null, null, Elapsed(started), Retryable: true);
        }
        catch (HttpRequestException e) when (FindRefusal(e) is { } refusal)
        {
            // Not retried: the address is refused by policy, not unreachable by accident.
            return new AttemptOutcome.Failed(refusal.Message, null, null, Elapsed(started), Retryable: false);
        }
        catch (HttpRequestException e)
        {
            return new AttemptOutcome.Failed(NetworkReason(e), null, null, Elapsed(started), Retryable: true);
        }
    }

    private HttpRequestMessage Prepare(AttemptRequest request)
    {
        var signature = WebhookSigner.Sign(request.Secrets, request.EventId, time.GetUtcNow().ToUnixTimeSeconds(), request.Body);
        var content = new ByteArrayContent(request.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var message = new HttpRequestMessage(HttpMethod.Post, request.Url) { Content = content };
        message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        message.Headers.TryAddWithoutValidation("X-Webhook-Event", request.EventType);
        message.Headers.TryAddWithoutValidation("X-Webhook-Delivery", request.DeliveryId.ToString());
        message.Headers.TryAddWithoutValidation("X-Webhook-Attempt", request.AttemptNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in signature.All())
            message.Headers.TryAddWithoutValidation(name, value);
        return message;
    }

    /// <summary>Reads at most <see cref="MaxResponseBytes"/>: a receiver cannot make us buffer a large answer.</summary>
    private static async Task<string?> ReadCappedAsync(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        // Pooled: a fresh 4 KB buffer per attempt is 40 MB of garbage per 10,000 deliveries.
        var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseBytes);
        try
        {
            var read = 0;
            while (read < MaxResponseBytes)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, MaxResponseBytes - read), ct);
                if (n == 0) break;
                read += n;
            }
            return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private long Elapsed(long started) => (long)time.GetElapsedTime(started).TotalMilliseconds;

    private static string NetworkReason(HttpRequestException e)
    {
        var inner = e.InnerException is SocketException socket ? $"{socket.SocketErrorCode}: {socket.Message}" : e.InnerException?.Message;
        return inner is null ? $"Network error: {e.Message}" : $"Network error: {e.Message} ({inner})";
    }

    internal static RefusedAddressException? FindRefusal(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
            if (current is RefusedAddressException refused) return refused;
        return null;
    }

    /// <summary>
    /// Resolves the host and connects only to addresses the policy allows (DNS may have changed since the URL was saved).
    /// Shared with <see cref="Sources.PageFetcher"/>: a watched page is held to the same policy as a webhook.
    /// </summary>
    internal static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = allowPrivate ? addresses : addresses.Where(a => !AddressPolicy.IsRefused(a)).ToArray();
        if (allowed.Length == 0)
        {
            // The customer reads this in the history: say no more than the URL check says when saving.
            throw new RefusedAddressException($"Refused to connect to {host}: it does not resolve to a public internet address.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The connect-time SSRF check refused every address the host resolved to.</summary>
public sealed class RefusedAddressException(string message) : IOException(message);
