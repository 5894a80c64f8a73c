using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using WebhookHub.Core.Webhooks;
using WebhookHub.IntegrationTests.Infrastructure;

namespace WebhookHub.IntegrationTests.Security;

public sealed class DataProtectionTests
{
    [Fact]
    public async Task With_a_certificate_the_key_ring_is_encrypted_at_rest_and_secrets_still_round_trip()
    {
        var pfx = Path.Combine(Path.GetTempPath(), $"webhookhub-dp-{Guid.NewGuid():n}.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=WebhookHub Data Protection test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));
        }
        var log = new CapturingLoggerProvider();
        try
        {
            await using var app = new WebhookHubApp(new Dictionary<string, string?>
            {
                ["WebhookHub:DataProtection:CertificatePath"] = pfx,
                ["WebhookHub:DataProtection:CertificatePassword"] = "test-password",
            }) { LogSink = log };
            var protector = app.Services.GetRequiredService<WebhookSecretProtector>();
            var secret = WebhookSecret.Generate();
            Assert.Equal(secret, protector.Unprotect(protector.Protect(secret)));

            var keyFile = Assert.Single(Directory.GetFiles(Path.Combine(app.DataDirectory, "keys"), "key-*.xml"));
            var xml = await File.ReadAllTextAsync(keyFile);
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("unencrypted form", xml);
            Assert.DoesNotContain("stored unencrypted", log.AllText);
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public async Task Without_a_certificate_the_start_warns_that_the_keys_are_unencrypted()
    {
        var log = new CapturingLoggerProvider();
        await using var app = new WebhookHubApp { LogSink = log };
        _ = app.BaseAddress;
        Assert.Contains("stored unencrypted", log.AllText);
        Assert.Contains("WebhookHub:DataProtection:CertificatePath", log.AllText);
    }
}
