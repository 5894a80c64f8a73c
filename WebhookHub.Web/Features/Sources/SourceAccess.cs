using System.Security.Claims;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Features.Sources;

/// <summary>
/// Who may change sources: admins, and reporters (a change-detection pipeline's key, on the API only: the pages are for
/// people). Everyone signed in may read them, without header values; checking one now may report a change to every
/// webhook, so it is an editor's act too.
/// </summary>
public static class SourceAccess
{
    public static bool MayEdit(ClaimsPrincipal user) => user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Reporter);
}
