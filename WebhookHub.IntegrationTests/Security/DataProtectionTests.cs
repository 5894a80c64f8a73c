using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
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

            var xml = Assert.Single(await StoredKeysAsync(app.DataDirectory));
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
    public async Task Without_a_certificate_the_start_warns_that_the_keys_are_unencrypted_and_says_where_they_are()
    {
        var log = new CapturingLoggerProvider();
        await using var app = new WebhookHubApp { LogSink = log };
        _ = app.BaseAddress;
        Assert.Contains("stored unencrypted", log.AllText);
        Assert.Contains("WebhookHub:DataProtection:CertificatePath", log.AllText);
        Assert.Contains(TestDatabase.IsPostgres ? "data_protection_keys" : Path.Combine(app.DataDirectory, "keys"), log.AllText);
    }

    /// <summary>
    /// A hub that kept its keys under the data directory (SQLite, or PostgreSQL before the keys moved into the
    /// database) still decrypts the secrets they encrypted; on PostgreSQL the files are copied into the table.
    /// </summary>
    [Fact]
    public async Task Secrets_encrypted_with_key_files_in_the_data_directory_still_decrypt()
    {
        var data = Path.Combine(Path.GetTempPath(), "webhookhub-tests", Guid.NewGuid().ToString("n"));
        var secret = WebhookSecret.Generate();
        string stored;
        using (var before = new ServiceCollection()
            .AddDataProtection().SetApplicationName("WebhookHub").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data, "keys"))).Services
            .BuildServiceProvider())
            stored = new WebhookSecretProtector(before.GetRequiredService<IDataProtectionProvider>()).Protect(secret);
        var keyFile = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(Path.Combine(data, "keys"), "key-*.xml")));

        await using var app = new WebhookHubApp(dataDirectory: data);
        Assert.Equal(secret, app.Services.GetRequiredService<WebhookSecretProtector>().Unprotect(stored));
        if (TestDatabase.IsPostgres)
            Assert.Equal(1, Reliability.Hub.Scalar(data, $"SELECT count(*) FROM data_protection_keys WHERE friendly_name = '{keyFile}'"));
    }

    /// <summary>The key ring as stored: the key files on SQLite, the rows of data_protection_keys on PostgreSQL.</summary>
    private static async Task<List<string>> StoredKeysAsync(string dataDirectory)
    {
        if (!TestDatabase.IsPostgres)
            return [.. await Task.WhenAll(Directory.GetFiles(Path.Combine(dataDirectory, "keys"), "key-*.xml").Select(f => File.ReadAllTextAsync(f)))];
        Assert.False(Directory.Exists(Path.Combine(dataDirectory, "keys")), "key files written beside a database that holds the keys");
        await using var db = TestDatabase.OpenReadOnly(dataDirectory);
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT xml FROM data_protection_keys WHERE friendly_name LIKE 'key-%'";
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        return keys;
    }
}
