using System.Security.Cryptography;
using System.Text;

namespace WebhookHub.Core.Signing;

/// <summary>The signature headers of one attempt (DESIGN.md §4).</summary>
public sealed record SignatureHeaders(string WebhookId, string WebhookTimestamp, string WebhookSignature, string GitHubSignature)
{
    public IEnumerable<KeyValuePair<string, string>> All()
    {
        yield return new("webhook-id", WebhookId);
        yield return new("webhook-timestamp", WebhookTimestamp);
        yield return new("webhook-signature", WebhookSignature);
        yield return new("X-Webhook-Signature", GitHubSignature);
    }
}

/// <summary>
/// Signs a body two ways: Standard Webhooks (<c>webhook-signature: v1,&lt;base64&gt;</c> over
/// <c>{id}.{timestamp}.{body}</c>, keyed with the bytes after <c>whsec_</c>) and GitHub's
/// <c>sha256=&lt;hex&gt;</c> over the body, keyed with the whole secret string.
/// </summary>
public static class WebhookSigner
{
    /// <param name="secrets">The current secret first; during a rotation also the previous one.</param>
    public static SignatureHeaders Sign(IReadOnlyList<string> secrets, string eventId, long timestamp, ReadOnlySpan<byte> body)
    {
        if (secrets.Count == 0) throw new ArgumentException("At least one secret is needed.", nameof(secrets));
        var standard = new StringBuilder();
        foreach (var secret in secrets)
        {
            if (standard.Length > 0) standard.Append(' ');
            standard.Append(StandardSignature(secret, eventId, timestamp, body));
        }
        var ts = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new SignatureHeaders(eventId, ts, standard.ToString(), GitHubSignature(secrets[0], body));
    }

    /// <summary><c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>.</summary>
    public static string StandardSignature(string secret, string eventId, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{eventId}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(StandardKey(secret), signed));
    }

    /// <summary><c>sha256=</c> + lowercase hex HMAC-SHA256 of the body, keyed with the secret string as UTF-8.</summary>
    public static string GitHubSignature(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The Standard Webhooks key: the base64-decoded part after <c>whsec_</c>.</summary>
    public static byte[] StandardKey(string secret) =>
        Convert.FromBase64String(secret.StartsWith(Webhooks.WebhookSecret.Prefix, StringComparison.Ordinal)
            ? secret[Webhooks.WebhookSecret.Prefix.Length..]
            : secret);
}
