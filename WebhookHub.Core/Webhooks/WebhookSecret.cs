using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace WebhookHub.Core.Webhooks;

public static class WebhookSecret
{
    public const string Prefix = "whsec_";

    /// <summary>A new signing secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string Generate() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}

/// <summary>Encrypts signing secrets at rest with ASP.NET Core Data Protection (keys under the data directory).</summary>
public sealed class WebhookSecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("WebhookHub.WebhookSecret.v1");

    /// <summary>
    /// Stored ciphertext to secret, for signing. A decryption per attempt was 2.5% of a fan-out's CPU
    /// (perf), and a ciphertext always decrypts to the same secret; a rotation stores a new ciphertext.
    /// Bounded: emptied when it reaches 10,000 entries.
    /// </summary>
    private readonly ConcurrentDictionary<string, string> _signing = new();

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string stored) => _protector.Unprotect(stored);

    /// <summary>The secrets that sign now: the current one, and the previous one while its overlap lasts.</summary>
    public IReadOnlyList<string> SigningSecrets(Webhook webhook, DateTime now)
    {
        var current = ForSigning(webhook.Secret);
        if (webhook.PreviousSecret is null || webhook.PreviousSecretExpiresAt is null || webhook.PreviousSecretExpiresAt <= now)
            return [current];
        return [current, ForSigning(webhook.PreviousSecret)];
    }

    private string ForSigning(string stored)
    {
        if (_signing.TryGetValue(stored, out var secret)) return secret;
        if (_signing.Count >= 10_000) _signing.Clear();
        return _signing[stored] = Unprotect(stored);
    }
}
