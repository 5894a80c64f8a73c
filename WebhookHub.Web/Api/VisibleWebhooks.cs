using System.Security.Claims;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Web.Api;

public static class VisibleWebhooks
{
    /// <summary>
    /// The webhooks this user may see: admins and operators every one (deleted ones too, whose history
    /// stays readable), a customer only its own live ones. Anything else answers 404, never 403.
    /// </summary>
    public static IQueryable<Webhook> VisibleTo(this IQueryable<Webhook> webhooks, ClaimsPrincipal user)
    {
        if (user.SeesEverything()) return webhooks;
        var userId = user.Id();
        return webhooks.Where(w => w.UserId == userId && w.DeletedAt == null);
    }
}
