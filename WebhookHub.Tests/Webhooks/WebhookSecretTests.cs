using WebhookHub.Core.Webhooks;

namespace WebhookHub.Tests.Webhooks;

public sealed class WebhookSecretTests
{
    [Fact]
    public void A_secret_is_whsec_and_base64_of_32_random_bytes()
    {
        var secret = WebhookSecret.Generate();

        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.NotEqual(secret, WebhookSecret.Generate());
    }
}
