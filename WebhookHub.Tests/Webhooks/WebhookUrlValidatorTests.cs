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
    [InlineData("https://v6.example/hooks?x=1")]
    [InlineData("https://public.example:443/hooks")]
    [InlineData("https://public.example:80/hooks")]
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
    [InlineData("https://public.example:8080/hooks", "URL port must be 443 or 80")]
    [InlineData("https://93.184.215.14:22/", "URL port must be 443 or 80")]
    public async Task Refuses_with_a_reason(string? url, string expected) =>
        Assert.Equal(expected, (await Validator().ValidateAsync(url)).Error);

    /// <summary>
    /// A refusal never says what a name resolved to, nor whether it resolved: the same sentence for a name
    /// that does not resolve, one that resolves privately, and every refused literal, new ranges included.
    /// </summary>
    [Theory]
    [InlineData("https://nowhere.example/hooks")]
    [InlineData("https://internal.example/hooks")]
    [InlineData("https://mixed.example/hooks")]
    [InlineData("https://mapped.example/hooks")]
    [InlineData("https://127.0.0.1/hooks")]
    [InlineData("https://2130706433/hooks")]
    [InlineData("https://10.1.2.3/hooks")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://100.64.0.1/")]
    [InlineData("https://[::1]/hooks")]
    [InlineData("https://[::ffff:10.0.0.1]/hooks")]
    [InlineData("https://[fe80::1]/hooks")]
    [InlineData("https://[fd00:ec2::254]/")]
    [InlineData("https://168.63.129.16/")]
    [InlineData("https://[::10.0.0.1]/")]
    [InlineData("https://[::127.0.0.1]/")]
    [InlineData("https://[::ffff:0:10.0.0.1]/")]
    [InlineData("https://[2002:a00:1::]/")]
    [InlineData("https://[2002:5db8:d70e::1]/")]
    [InlineData("https://[64:ff9b:1::a00:1]/")]
    public async Task Refuses_without_naming_the_address(string url)
    {
        var error = (await Validator().ValidateAsync(url)).Error;
        Assert.Equal(WebhookUrlValidator.UnreachableHost, error);
    }

    [Theory]
    [InlineData("::10.0.0.1")]
    [InlineData("::ffff:0:7f00:1")]
    [InlineData("2002:c0a8:101::1")]
    [InlineData("64:ff9b:1:2::1")]
    [InlineData("168.63.129.16")]
    public void The_address_policy_covers_embedded_and_platform_ranges(string address) =>
        Assert.True(AddressPolicy.IsRefused(IPAddress.Parse(address)), address);

    [Fact]
    public async Task Additional_ports_come_from_settings()
    {
        var validator = new WebhookUrlValidator(Options.Create(new WebhookHubOptions { Delivery = { AdditionalPorts = [8443] } }))
        {
            Resolve = (_, _) => Task.FromResult(new[] { IPAddress.Parse("93.184.215.14") }),
        };
        Assert.True((await validator.ValidateAsync("https://public.example:8443/")).IsValid);
        Assert.Equal("URL port must be 443, 80 or one of 8443", (await validator.ValidateAsync("https://public.example:8444/")).Error);
    }

    [Fact]
    public async Task Settings_allow_http_and_private_networks_for_local_testing()
    {
        var relaxed = Validator(allowHttp: true, allowPrivate: true);
        Assert.True((await relaxed.ValidateAsync("http://127.0.0.1:5000/hooks")).IsValid);
        Assert.True((await relaxed.ValidateAsync("https://internal.example/")).IsValid);
        Assert.Equal("URL must use https or http", (await relaxed.ValidateAsync("ftp://public.example/")).Error);
        // Relaxed is not careless: credentials and names that do not resolve are still refused.
        Assert.Equal("URL must not contain credentials", (await relaxed.ValidateAsync("http://a:b@127.0.0.1/")).Error);
        Assert.Equal(WebhookUrlValidator.UnreachableHost, (await relaxed.ValidateAsync("http://nowhere.example/")).Error);
        Assert.True((await relaxed.ValidateAsync("https://public.example:8080/")).IsValid, "local testing uses any port");
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
