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
/// https (unless <c>AllowHttp</c>), no credentials, a host that resolves, no refused address and only
/// ports 443, 80 and <c>AdditionalPorts</c> (unless <c>AllowPrivateNetworks</c>). The delivery pipeline
/// checks addresses again at connect time, because what a name resolves to today says nothing about tomorrow.
/// A refusal never says what a name resolved to, nor whether it resolved at all: the sentence would map
/// internal DNS for whoever can save a webhook. The port rule keeps delivery errors from being a port scanner.
/// </summary>
public sealed class WebhookUrlValidator(IOptions<WebhookHubOptions> options)
{
    public const int MaxLength = 2048;

    /// <summary>The one answer for a host that does not resolve or resolves to an address we never reach.</summary>
    public const string UnreachableHost = "URL host must resolve to public internet addresses only";

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
        if (!delivery.AllowPrivateNetworks && uri.Port is not (443 or 80) && !delivery.AdditionalPorts.Contains(uri.Port))
            return new(delivery.AdditionalPorts.Length == 0
                ? "URL port must be 443 or 80"
                : $"URL port must be 443, 80 or one of {string.Join(", ", delivery.AdditionalPorts)}");

        // Uri has already turned decimal, octal and hex IPv4 spellings into dotted form, so a literal
        // cannot sneak past as a "name".
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal))
            return delivery.AllowPrivateNetworks || !AddressPolicy.IsRefused(literal) ? UrlVerdict.Valid : new(UnreachableHost);

        IPAddress[] addresses;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            addresses = await Resolve(uri.IdnHost, timeout.Token);
        }
        catch (SocketException)
        {
            return new(UnreachableHost);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new("URL host did not resolve in time");
        }
        if (addresses.Length == 0) return new(UnreachableHost);
        if (delivery.AllowPrivateNetworks) return UrlVerdict.Valid;

        // Every address counts: a name with one public and one private address would let the
        // connection pick the private one.
        return addresses.Any(AddressPolicy.IsRefused) ? new(UnreachableHost) : UrlVerdict.Valid;
    }
}
