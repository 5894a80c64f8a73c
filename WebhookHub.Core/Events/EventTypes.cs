namespace WebhookHub.Core.Events;

public static class EventTypes
{
    public const string PolicyChangeDetected = "policy_change.detected";
    public const string WebhookTest = "webhook.test";

    /// <summary>The types a webhook can subscribe to; <see cref="WebhookTest"/> is always delivered on request.</summary>
    public static readonly string[] Subscribable = [PolicyChangeDetected];

    public static readonly string[] All = [PolicyChangeDetected, WebhookTest];
}
