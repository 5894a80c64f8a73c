using System.Text;
using WebhookHub.Core.Signing;

namespace WebhookHub.Tests.Signing;

/// <summary>Known answers from public libraries: if these hold, off-the-shelf verifiers accept our deliveries.</summary>
public sealed class WebhookSignerTests
{
    public const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public const string MessageId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    public const long Timestamp = 1614265330;
    public static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");

    // From the Standard Webhooks reference libraries' tests.
    public const string StandardSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    // What @octokit/webhooks-methods sign(secret, body) gives: the whole secret string is the key.
    public const string GitHubSignature = "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c";

    [Fact]
    public void Standard_webhooks_signature_matches_the_known_answer() =>
        Assert.Equal(StandardSignature, WebhookSigner.StandardSignature(Secret, MessageId, Timestamp, Body));

    [Fact]
    public void GitHub_style_signature_matches_the_known_answer() =>
        Assert.Equal(GitHubSignature, WebhookSigner.GitHubSignature(Secret, Body));

    [Fact]
    public void Sign_gives_all_headers_with_the_known_answers()
    {
        var headers = WebhookSigner.Sign([Secret], MessageId, Timestamp, Body);

        Assert.Equal(MessageId, headers.WebhookId);
        Assert.Equal("1614265330", headers.WebhookTimestamp);
        Assert.Equal(StandardSignature, headers.WebhookSignature);
        Assert.Equal(GitHubSignature, headers.GitHubSignature);
        Assert.Equal(["webhook-id", "webhook-timestamp", "webhook-signature", "X-Webhook-Signature"], headers.All().Select(h => h.Key));
    }

    [Fact]
    public void During_a_rotation_each_secret_signs_space_separated_new_first()
    {
        var previous = "whsec_" + Convert.ToBase64String(new byte[32]);

        var headers = WebhookSigner.Sign([Secret, previous], MessageId, Timestamp, Body);

        var signatures = headers.WebhookSignature.Split(' ');
        Assert.Equal([StandardSignature, WebhookSigner.StandardSignature(previous, MessageId, Timestamp, Body)], signatures);
        Assert.NotEqual(signatures[0], signatures[1]);
        // GitHub's scheme has room for one signature only: the current secret's.
        Assert.Equal(GitHubSignature, headers.GitHubSignature);
    }
}
