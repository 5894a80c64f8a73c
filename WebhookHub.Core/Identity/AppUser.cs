using Microsoft.AspNetCore.Identity;

namespace WebhookHub.Core.Identity;

public sealed class AppUser : IdentityUser
{
    public DateTime CreatedAt { get; set; }
}

public static class Roles
{
    public const string Admin = "Admin";
    public const string Operator = "Operator";
    public const string Customer = "Customer";

    public static readonly string[] All = [Admin, Operator, Customer];
}
