namespace WebhookHub.Core.Webhooks;

/// <summary>The one rule for which webhooks a person may see; the API, the pages and <see cref="WebhookService"/> all ask it.</summary>
public static class WebhookVisibility
{
    /// <summary>
    /// Admins and operators see every webhook (deleted ones too, whose history stays readable), a customer
    /// only its own live ones. Anything else answers 404, never 403.
    /// </summary>
    public static IQueryable<Webhook> VisibleTo(this IQueryable<Webhook> webhooks, WebhookCaller caller) =>
        caller.SeesEverything ? webhooks : webhooks.Where(w => w.UserId == caller.UserId && w.DeletedAt == null);
}
