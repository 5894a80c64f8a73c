using System.Security.Claims;
using WebhookHub.Core.Identity;

namespace WebhookHub.Web.Features.Sources;

/// <summary>
/// Who may change sources: admins, and reporters (a change-detection pipeline's role), as on the API.
/// Everyone signed in may read them; checking one now may report a change to every webhook, so it is an editor's act too.
/// </summary>
public static class SourceAccess
{
    public const string EditorRoles = $"{Roles.Admin},{Roles.Reporter}";

    public static bool MayEdit(ClaimsPrincipal user) => user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Reporter);
}
