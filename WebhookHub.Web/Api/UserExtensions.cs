using System.Security.Claims;
using WebhookHub.Core.Identity;
using WebhookHub.Core.Webhooks;

namespace WebhookHub.Web.Api;

public static class UserExtensions
{
    public static string Id(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Signed-in user without an id.");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin);

    /// <summary>Admins and operators look after every customer's webhooks.</summary>
    public static bool SeesEverything(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Operator);

    /// <summary>The caller as the webhook service sees it; the API and the pages build it the same way.</summary>
    public static WebhookCaller AsWebhookCaller(this ClaimsPrincipal user) => new(user.Id(), user.IsAdmin(), user.SeesEverything());
}
