using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WebhookHub.Core.Signing;

/// <summary>
/// For .NET receivers: checks a delivery's Standard Webhooks headers (signature and timestamp, which
/// resists replay) or its GitHub-style <c>X-Webhook-Signature</c>. Accepts any of several secrets and
/// any of the space-separated signatures, so it keeps working through a secret rotation.
/// </summary>
public sealed class WebhookVerifier(IEnumerable<string> secrets, TimeSpan? tolerance = null, TimeProvider? time = null)
{
    private readonly string[] _secrets = secrets.ToArray();
    private readonly TimeSpan _tolerance = tolerance ?? TimeSpan.FromMinutes(5);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public WebhookVerifier(string secret, TimeSpan? tolerance = null, TimeProvider? time = null)
        : this([secret], tolerance, time) { }

    /// <summary>True when the timestamp is fresh and one signature matches one of our secrets.</summary>
    public bool VerifyStandard(string webhookId, string webhookTimestamp, string webhookSignature, ReadOnlySpan<byte> body)
    {
        if (!long.TryParse(webhookTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
            return false;
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        if (age.Duration() > _tolerance)
            return false;

        foreach (var secret in _secrets)
        {
            var expected = Encoding.ASCII.GetBytes(WebhookSigner.StandardSignature(secret, webhookId, timestamp, body));
            foreach (var candidate in webhookSignature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate)))
                    return true;
        }
        return false;
    }

    /// <summary>True when <c>X-Webhook-Signature</c> matches one of our secrets. It has no timestamp: prefer <see cref="VerifyStandard"/>.</summary>
    public bool VerifyGitHub(string signatureHeader, ReadOnlySpan<byte> body)
    {
        var presented = Encoding.ASCII.GetBytes(signatureHeader.Trim());
        foreach (var secret in _secrets)
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(WebhookSigner.GitHubSignature(secret, body)), presented))
                return true;
        return false;
    }
}
