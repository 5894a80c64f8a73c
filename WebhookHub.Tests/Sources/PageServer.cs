using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WebhookHub.Tests.Sources;

/// <summary>A real page server on 127.0.0.1 (Kestrel) that records each request's headers and answers as the test says.</summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Dictionary<string, string>> _requests = new();

    private PageServer(WebApplication app) => _app = app;

    public RequestDelegate Handle { get; set; } = context => context.Response.WriteAsync("<p>hello</p>");

    /// <param name="certificate">Serve https with it; http when null.</param>
    public static async Task<PageServer> StartAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (certificate is null)
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        else
            builder.WebHost.UseKestrelHttpsConfiguration().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var server = new PageServer(app);
        app.Run(context =>
        {
            // Copied: Kestrel reuses the header collection once the request is over.
            server._requests.Enqueue(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            return server.Handle(context);
        });
        await app.StartAsync();
        return server;
    }

    public string Url(string path = "/page") => _app.Urls.First().TrimEnd('/') + path;

    /// <summary>Each request's headers, in arrival order.</summary>
    public IReadOnlyList<Dictionary<string, string>> Requests => _requests.ToArray();

    public static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel on Linux needs the key in an exportable store, which a round trip through PFX gives.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
