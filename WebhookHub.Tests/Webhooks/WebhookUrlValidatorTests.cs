using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using WebhookHub.Core;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Webhooks;

/// <summary>The rules themselves, with DNS answered by the test; the HTTP tests prove the API uses them.</summary>
public sealed class WebhookUrlValidatorTests
{
    private static readonly Dictionary<string, IPAddress[]> Dns = new(StringComparer.OrdinalIgnoreCase)
    {
        ["public.example"] = [IPAddress.Parse("93.184.215.14")],
        ["internal.example"] = [IPAddress.Parse("10.0.0.5")],
        ["mixed.example"] = [IPAddress.Parse("93.184.215.14"), IPAddress.Parse("192.168.1.20")],
        ["mapped.example"] = [IPAddress.Parse("::ffff:127.0.0.1")],
        ["v6.example"] = [IPAddress.Parse("2606:4700::1111")],
    };

    private static WebhookUrlValidator Validator(bool allowHttp = false, bool allowPrivate = false) =>
        new(Options.Create(new WebhookHubOptions { Delivery = { AllowHttp = allowHttp, AllowPrivateNetworks = allowPrivate } }))
        {
            Resolve = (host, _) => Dns.TryGetValue(host, out var addresses)
                ? Task.FromResult(addresses)
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)),
        };

    [Theory]
    [InlineData("https://public.example/hooks")]
    [InlineData("https://v6.example:8443/hooks?x=1")]
    [InlineData("https://93.184.215.14/hooks")]
    [InlineData("https://[2606:4700::1111]/hooks")]
    public async Task Accepts_public_https_urls(string url) =>
        Assert.Null((await Validator().ValidateAsync(url)).Error);

    [Theory]
    [InlineData(null, "URL is required")]
    [InlineData("  ", "URL is required")]
    [InlineData("/relative/path", "URL must be an absolute URL such as https://example.com/webhooks")]
    [InlineData("http://public.example/hooks", "URL must use https")]
    [InlineData("ftp://public.example/hooks", "URL must use https")]
    [InlineData("https://user:pass@public.example/hooks", "URL must not contain credentials")]
    [InlineData("https://nowhere.example/hooks", "URL host does not resolve")]
    [InlineData("https://internal.example/hooks", "URL resolves to a private address 10.0.0.5")]
    [InlineData("https://mixed.example/hooks", "URL resolves to a private address 192.168.1.20")]
    [InlineData("https://mapped.example/hooks", "URL resolves to a loopback address 127.0.0.1")]
    [InlineData("https://127.0.0.1/hooks", "URL points to a loopback address 127.0.0.1")]
    [InlineData("https://2130706433/hooks", "URL points to a loopback address 127.0.0.1")]
    [InlineData("https://10.1.2.3/hooks", "URL points to a private address 10.1.2.3")]
    [InlineData("https://169.254.169.254/latest/meta-data", "URL points to a link-local (cloud metadata) address 169.254.169.254")]
    [InlineData("https://100.64.0.1/", "URL points to a carrier-grade NAT address 100.64.0.1")]
    [InlineData("https://[::1]/hooks", "URL points to a loopback address ::1")]
    [InlineData("https://[::ffff:10.0.0.1]/hooks", "URL points to a private address 10.0.0.1")]
    [InlineData("https://[fe80::1]/hooks", "URL points to a link-local address fe80::1")]
    [InlineData("https://[fd00:ec2::254]/", "URL points to a private (unique local) address fd00:ec2::254")]
    public async Task Refuses_with_a_reason(string? url, string expected) =>
        Assert.Equal(expected, (await Validator().ValidateAsync(url)).Error);

    [Fact]
    public async Task Settings_allow_http_and_private_networks_for_local_testing()
    {
        var relaxed = Validator(allowHttp: true, allowPrivate: true);
        Assert.True((await relaxed.ValidateAsync("http://127.0.0.1:5000/hooks")).IsValid);
        Assert.True((await relaxed.ValidateAsync("https://internal.example/")).IsValid);
        Assert.Equal("URL must use https or http", (await relaxed.ValidateAsync("ftp://public.example/")).Error);
        // Relaxed is not careless: credentials and names that do not resolve are still refused.
        Assert.Equal("URL must not contain credentials", (await relaxed.ValidateAsync("http://a:b@127.0.0.1/")).Error);
        Assert.Equal("URL host does not resolve", (await relaxed.ValidateAsync("http://nowhere.example/")).Error);
    }

    [Fact]
    public async Task A_resolver_that_hangs_is_given_up_on()
    {
        var validator = new WebhookUrlValidator(Options.Create(new WebhookHubOptions()))
        {
            Resolve = async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return []; },
        };
        Assert.Equal("URL host did not resolve in time", (await validator.ValidateAsync("https://slow.example/")).Error);
    }
}
