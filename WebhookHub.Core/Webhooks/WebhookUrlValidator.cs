using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace WebhookHub.Core.Webhooks;

/// <summary>The verdict on a webhook URL: valid, or refused with a sentence a person can act on.</summary>
public readonly record struct UrlVerdict(string? Error)
{
    public bool IsValid => Error is null;
    public static UrlVerdict Valid => default;
}

/// <summary>
/// The one place the webhook URL rules live (DESIGN.md §5), used by the API and the UI: absolute,
/// https (unless <c>AllowHttp</c>), no credentials, a host that resolves, and no refused address
/// (unless <c>AllowPrivateNetworks</c>). The delivery pipeline checks addresses again at connect time,
/// because what a name resolves to today says nothing about tomorrow.
/// </summary>
public sealed class WebhookUrlValidator(IOptions<WebhookHubOptions> options)
{
    public const int MaxLength = 2048;

    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How a host name becomes addresses; tests swap it to point names anywhere without a DNS server.</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; init; } = Dns.GetHostAddressesAsync;

    public async Task<UrlVerdict> ValidateAsync(string? url, CancellationToken ct = default)
    {
        var delivery = options.Value.Delivery;
        if (string.IsNullOrWhiteSpace(url)) return new("URL is required");
        url = url.Trim();
        if (url.Length > MaxLength) return new($"URL must be at most {MaxLength} characters");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc)
            return new("URL must be an absolute URL such as https://example.com/webhooks");

        var httpAllowed = delivery.AllowHttp && uri.Scheme == Uri.UriSchemeHttp;
        if (uri.Scheme != Uri.UriSchemeHttps && !httpAllowed)
            return new(delivery.AllowHttp ? "URL must use https or http" : "URL must use https");
        if (!string.IsNullOrEmpty(uri.UserInfo)) return new("URL must not contain credentials");
        if (string.IsNullOrEmpty(uri.Host)) return new("URL must name a host");

        // Uri has already turned decimal, octal and hex IPv4 spellings into dotted form, so a literal
        // cannot sneak past as a "name".
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal))
            return delivery.AllowPrivateNetworks ? UrlVerdict.Valid : Check(literal, "points to");

        IPAddress[] addresses;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            addresses = await Resolve(uri.IdnHost, timeout.Token);
        }
        catch (SocketException)
        {
            return new("URL host does not resolve");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new("URL host did not resolve in time");
        }
        if (addresses.Length == 0) return new("URL host does not resolve");
        if (delivery.AllowPrivateNetworks) return UrlVerdict.Valid;

        // Every address counts: a name with one public and one private address would let the
        // connection pick the private one.
        foreach (var address in addresses)
            if (Check(address, "resolves to") is { IsValid: false } refused)
                return refused;
        return UrlVerdict.Valid;
    }

    private static UrlVerdict Check(IPAddress address, string verb)
    {
        var shown = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return AddressPolicy.RefusalKind(address) is { } kind
            ? new($"URL {verb} {kind} address {shown}")
            : UrlVerdict.Valid;
    }
}
