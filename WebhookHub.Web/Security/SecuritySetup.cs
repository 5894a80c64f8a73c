using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using WebhookHub.Web.Auth;

namespace WebhookHub.Web.Security;

/// <summary><c>WebhookHub:Proxy</c>: who may tell the app the client's address and scheme.</summary>
public sealed class ProxySettings
{
    /// <summary>Addresses of the reverse proxies in front of the app; empty means loopback only (ASP.NET's default).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of proxies in CIDR form, e.g. <c>10.0.0.0/8</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];
}

/// <summary>
/// Web hygiene in front of everything else: the client's real address and scheme from known proxies only,
/// HSTS outside Development, security headers on every response, and the cookie-only CSRF and Origin
/// checks (see docs/security.md).
/// </summary>
public static class SecuritySetup
{
    public static IServiceCollection AddSecuritySetup(this IServiceCollection services, IConfiguration configuration)
    {
        var proxy = configuration.GetSection("WebhookHub:Proxy").Get<ProxySettings>() ?? new ProxySettings();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Only the client address and the scheme; the Host header stays what the proxy sent.
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (proxy.KnownProxies.Length == 0 && proxy.KnownNetworks.Length == 0) return;
            // Configured proxies replace the loopback default: trust exactly what the operator named.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var address in proxy.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(address));
            foreach (var network in proxy.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        services.AddHsts(o => o.MaxAge = TimeSpan.FromDays(365));
        services.AddSingleton(configuration.GetSection("WebhookHub:Login").Get<LoginLimits>() ?? new LoginLimits());
        services.AddSingleton<LoginThrottle>();
        return services;
    }

    /// <summary>Before authentication: forwarded headers must be applied before anything reads the address or scheme.</summary>
    public static void UseSecuritySetup(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // HSTS is sent on https requests only (a proxy's X-Forwarded-Proto counts); Development stays on plain http.
        if (!app.Environment.IsDevelopment()) app.UseHsts();
        app.UseMiddleware<SecurityHeaders>();
    }
}
