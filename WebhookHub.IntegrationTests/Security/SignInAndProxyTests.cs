using System.Net;
using System.Text.RegularExpressions;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Security;

/// <summary>
/// The app as production runs it behind a TLS-terminating proxy on loopback (ASP.NET's default known proxy):
/// Production environment, small sign-in limits so the throttle is reached in a few requests.
/// </summary>
public sealed class SignInAndProxyTests(SignInAndProxyTests.ProductionAppFixture fixture) : IClassFixture<SignInAndProxyTests.ProductionAppFixture>
{
    public sealed class ProductionAppFixture() : AppFixture(new Dictionary<string, string?>
    {
        ["environment"] = "Production",
        ["WebhookHub:Login:FailuresPerAddress"] = "3",
        ["WebhookHub:Login:FailuresPerAccount"] = "6",
    });

    private WebhookHubApp App => fixture.App;

    private static int _lastAddress;

    /// <summary>A client address of its own for each sign-in that must not share a window with another test's.</summary>
    private static string Address() => $"203.0.113.{Interlocked.Increment(ref _lastAddress)}";

    [Fact]
    public async Task Behind_the_proxy_redirects_are_https_and_hsts_is_sent()
    {
        using var client = SignInForm.Client(App);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/webhooks");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Host = "hub.example.com";
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("https://hub.example.com/account/login", response.Headers.Location!.ToString());
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Fact]
    public async Task Pages_carry_the_security_headers()
    {
        using var client = SignInForm.Client(App);
        var response = await client.GetAsync("/account/login");
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self' 'nonce-", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task The_sign_in_cookie_is_secure_outside_development_even_on_plain_http()
    {
        using var client = SignInForm.Client(App);
        var response = await SignInForm.PostAsync(client, WebhookHubApp.AdminEmail, WebhookHubApp.AdminPassword, Address());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal));
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Failed_sign_ins_are_limited_per_client_address_with_429_and_retry_after()
    {
        using var client = SignInForm.Client(App);
        var address = Address();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await SignInForm.PostAsync(client, $"nobody{i}-{Guid.NewGuid():n}@test.local", "wrong-password", address)).StatusCode);

        var limited = await SignInForm.PostAsync(client, WebhookHubApp.AdminEmail, WebhookHubApp.AdminPassword, address);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single()), 1, 300);

        // Another client (as the proxy tells it) is not held back by the first one's failures.
        Assert.Equal(HttpStatusCode.Redirect,
            (await SignInForm.PostAsync(client, WebhookHubApp.AdminEmail, WebhookHubApp.AdminPassword, Address())).StatusCode);
    }

    [Fact]
    public async Task Failed_sign_ins_are_limited_per_account_across_addresses()
    {
        using var admin = App.ApiClient();
        using var user = await ApiUsers.CreateAsync(App);
        using var client = SignInForm.Client(App);
        for (var i = 0; i < 6; i++)
            Assert.Equal(HttpStatusCode.OK, (await SignInForm.PostAsync(client, user.Email, "wrong-password", $"198.51.100.{i + 1}")).StatusCode);

        var limited = await SignInForm.PostAsync(client, user.Email, "Customer-pass-1", "198.51.100.200");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.Contains("Retry-After"));
    }

    /// <summary>Identity's lockout (five failures, five minutes) let anyone keep the admin out; it is off now.</summary>
    [Fact]
    public async Task Five_wrong_passwords_do_not_lock_the_account()
    {
        using var user = await ApiUsers.CreateAsync(App, "Operator");
        using var client = SignInForm.Client(App);
        for (var i = 0; i < 5; i++)
            await SignInForm.PostAsync(client, user.Email, "wrong-password", $"192.0.2.{i + 1}");

        var signedIn = await SignInForm.PostAsync(client, user.Email, "Customer-pass-1", Address());
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", new Uri(App.BaseAddress, signedIn.Headers.Location!).AbsolutePath);
    }
}

/// <summary>A second app whose only known proxy is elsewhere: loopback's forwarded headers are ignored.</summary>
public sealed class UnknownProxyTests(UnknownProxyTests.OtherProxyFixture fixture) : IClassFixture<UnknownProxyTests.OtherProxyFixture>
{
    public sealed class OtherProxyFixture() : AppFixture(new Dictionary<string, string?>
    {
        ["WebhookHub:Proxy:KnownProxies:0"] = "10.9.9.9",
    });

    [Fact]
    public async Task Forwarded_headers_from_an_address_not_listed_in_known_proxies_are_ignored()
    {
        using var client = SignInForm.Client(fixture.App);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/webhooks");
        request.Headers.Add("X-Forwarded-Proto", "https");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://", response.Headers.Location!.ToString());
    }
}

/// <summary>The real sign-in form over HTTP: its antiforgery token, then a POST as the browser sends it.</summary>
internal static partial class SignInForm
{
    public static HttpClient Client(WebhookHubApp app) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = app.BaseAddress };

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string email, string password, string forwardedFor)
    {
        var form = await client.GetStringAsync("/account/login");
        var token = Token().Match(form).Groups[1].Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
                ["Input.Email"] = email,
                ["Input.Password"] = password,
            }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
