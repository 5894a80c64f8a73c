using System.Text;
using Microsoft.Extensions.Time.Testing;
using WebhookHub.Core.Signing;
using WebhookHub.Core.Webhooks;
using static WebhookHub.Tests.Signing.WebhookSignerTests;

namespace WebhookHub.Tests.Signing;

public sealed class WebhookVerifierTests
{
    private static readonly string OtherSecret = WebhookSecret.Generate();

    /// <summary>A clock at the known-answer timestamp plus <paramref name="later"/>.</summary>
    private static FakeTimeProvider ClockAt(TimeSpan later = default) =>
        new(DateTimeOffset.FromUnixTimeSeconds(Timestamp) + later);

    [Fact]
    public void Accepts_the_known_answer()
    {
        var verifier = new WebhookVerifier(Secret, time: ClockAt(TimeSpan.FromSeconds(30)));
        Assert.True(verifier.VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, Body));
        Assert.True(verifier.VerifyGitHub(GitHubSignature, Body));
    }

    [Fact]
    public void Accepts_a_rotated_pair_whichever_secret_the_receiver_holds()
    {
        var headers = WebhookSigner.Sign([OtherSecret, Secret], MessageId, Timestamp, Body);
        Assert.Contains(' ', headers.WebhookSignature);

        foreach (var held in new[] { Secret, OtherSecret })
            Assert.True(new WebhookVerifier(held, time: ClockAt()).VerifyStandard(MessageId, headers.WebhookTimestamp, headers.WebhookSignature, Body), held);
        // A receiver that already lists both secrets accepts too.
        Assert.True(new WebhookVerifier([Secret, OtherSecret], time: ClockAt()).VerifyStandard(MessageId, headers.WebhookTimestamp, headers.WebhookSignature, Body));
    }

    [Fact]
    public void Rejects_a_tampered_body()
    {
        var tampered = Encoding.UTF8.GetBytes("""{"test": 2432232315}""");
        var verifier = new WebhookVerifier(Secret, time: ClockAt());
        Assert.False(verifier.VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, tampered));
        Assert.False(verifier.VerifyGitHub(GitHubSignature, tampered));
    }

    [Fact]
    public void Rejects_a_tampered_id_or_timestamp()
    {
        var verifier = new WebhookVerifier(Secret, time: ClockAt());
        Assert.False(verifier.VerifyStandard("msg_other", Timestamp.ToString(), StandardSignature, Body));
        Assert.False(verifier.VerifyStandard(MessageId, (Timestamp + 1).ToString(), StandardSignature, Body));
    }

    [Fact]
    public void Rejects_a_wrong_secret()
    {
        var verifier = new WebhookVerifier(OtherSecret, time: ClockAt());
        Assert.False(verifier.VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, Body));
        Assert.False(verifier.VerifyGitHub(GitHubSignature, Body));
    }

    [Theory]
    [InlineData(-6 * 60)] // from the future: a skewed or forged clock
    [InlineData(5 * 60 + 1)] // just past the default tolerance: a replay
    [InlineData(24 * 60 * 60)]
    public void Rejects_a_stale_or_future_timestamp(int secondsLater)
    {
        var verifier = new WebhookVerifier(Secret, time: ClockAt(TimeSpan.FromSeconds(secondsLater)));
        Assert.False(verifier.VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, Body));
    }

    [Fact]
    public void Accepts_at_the_edge_of_the_tolerance_and_honours_a_custom_one()
    {
        Assert.True(new WebhookVerifier(Secret, time: ClockAt(TimeSpan.FromMinutes(5))).VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, Body));
        var strict = new WebhookVerifier(Secret, TimeSpan.FromSeconds(10), ClockAt(TimeSpan.FromSeconds(11)));
        Assert.False(strict.VerifyStandard(MessageId, Timestamp.ToString(), StandardSignature, Body));
    }

    [Theory]
    [InlineData("not-a-number")]
    [InlineData("-1614265330")]
    [InlineData("")]
    public void Rejects_a_malformed_timestamp(string timestamp) =>
        Assert.False(new WebhookVerifier(Secret, time: ClockAt()).VerifyStandard(MessageId, timestamp, StandardSignature, Body));
}
