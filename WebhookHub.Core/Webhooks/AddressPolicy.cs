using System.Net;
using System.Net.Sockets;

namespace WebhookHub.Core.Webhooks;

/// <summary>
/// Which IP addresses a webhook may never reach (DESIGN.md §5): private, loopback, link-local, CGNAT,
/// multicast, reserved and cloud-metadata ranges, in IPv4 and IPv6, IPv4-mapped IPv6 included.
/// Used when a URL is saved and again at connect time, since DNS may change in between.
/// </summary>
public static class AddressPolicy
{
    private static readonly (IPAddress Network, int Prefix, string Kind)[] RefusedV4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8, "a reserved"),
        (IPAddress.Parse("10.0.0.0"), 8, "a private"),
        (IPAddress.Parse("100.64.0.0"), 10, "a carrier-grade NAT"),
        (IPAddress.Parse("127.0.0.0"), 8, "a loopback"),
        (IPAddress.Parse("169.254.0.0"), 16, "a link-local (cloud metadata)"),
        (IPAddress.Parse("172.16.0.0"), 12, "a private"),
        (IPAddress.Parse("192.0.0.0"), 24, "a reserved"),
        (IPAddress.Parse("192.0.2.0"), 24, "a documentation"),
        (IPAddress.Parse("192.168.0.0"), 16, "a private"),
        (IPAddress.Parse("198.18.0.0"), 15, "a benchmarking"),
        (IPAddress.Parse("198.51.100.0"), 24, "a documentation"),
        (IPAddress.Parse("203.0.113.0"), 24, "a documentation"),
        // Azure's platform endpoint (wire server): DHCP, DNS and the VM agent's channel to the host.
        (IPAddress.Parse("168.63.129.16"), 32, "a cloud metadata"),
        (IPAddress.Parse("224.0.0.0"), 4, "a multicast"),
        (IPAddress.Parse("240.0.0.0"), 4, "a reserved"),
    ];

    private static readonly (IPAddress Network, int Prefix, string Kind)[] RefusedV6 =
    [
        (IPAddress.Parse("::"), 128, "an unspecified"),
        (IPAddress.Parse("::1"), 128, "a loopback"),
        // IPv4-compatible (deprecated) addresses embed any IPv4 address, 127.0.0.1 and 10/8 included.
        (IPAddress.Parse("::"), 96, "an IPv4-compatible"),
        // IPv4-translated (SIIT, RFC 2765): ::ffff:0:a.b.c.d reaches a.b.c.d through a translator.
        (IPAddress.Parse("::ffff:0:0:0"), 96, "an IPv4-translated"),
        (IPAddress.Parse("64:ff9b::"), 96, "a NAT64"),
        (IPAddress.Parse("64:ff9b:1::"), 48, "a local-use NAT64"),
        // 6to4 relays carry the embedded IPv4 address (which may be private) across.
        (IPAddress.Parse("2002::"), 16, "a 6to4"),
        (IPAddress.Parse("100::"), 64, "a discard"),
        (IPAddress.Parse("2001:db8::"), 32, "a documentation"),
        (IPAddress.Parse("fc00::"), 7, "a private (unique local)"),
        (IPAddress.Parse("fe80::"), 10, "a link-local"),
        (IPAddress.Parse("fec0::"), 10, "a site-local"),
        (IPAddress.Parse("ff00::"), 8, "a multicast"),
        (IPAddress.Parse("fd00:ec2::254"), 128, "a cloud metadata"),
    ];

    /// <summary>Null when the address may be reached; otherwise what kind of address it is ("a private", …).</summary>
    public static string? RefusalKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var table = address.AddressFamily == AddressFamily.InterNetwork ? RefusedV4 : RefusedV6;
        foreach (var (network, prefix, kind) in table)
            if (InNetwork(address, network, prefix))
                return kind;
        return null;
    }

    public static bool IsRefused(IPAddress address) => RefusalKind(address) is not null;

    private static bool InNetwork(IPAddress address, IPAddress network, int prefix)
    {
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        if (a.Length != n.Length) return false;
        var fullBytes = prefix / 8;
        for (var i = 0; i < fullBytes; i++)
            if (a[i] != n[i]) return false;
        var rest = prefix % 8;
        if (rest == 0) return true;
        var mask = (byte)(0xFF << (8 - rest));
        return (a[fullBytes] & mask) == (n[fullBytes] & mask);
    }
}
