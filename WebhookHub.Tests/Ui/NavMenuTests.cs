using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using WebhookHub.Web.Components.Layout;

namespace WebhookHub.Tests.Ui;

public sealed class NavMenuTests : BunitContext
{
    public NavMenuTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    [Fact]
    public void Admin_sees_the_hangfire_link()
    {
        AddAuthorization().SetAuthorized("admin@test.local").SetRoles("Admin");
        var menu = Render<NavMenu>();
        Assert.Contains(menu.FindAll("a"), a => a.GetAttribute("href") == "/hangfire");
        Assert.Contains(menu.FindAll("a"), a => a.GetAttribute("href") == "/deliveries");
    }

    [Fact]
    public void Customer_sees_neither_hangfire_nor_the_global_history()
    {
        AddAuthorization().SetAuthorized("customer@test.local").SetRoles("Customer");
        var menu = Render<NavMenu>();
        Assert.DoesNotContain(menu.FindAll("a"), a => a.GetAttribute("href") == "/hangfire");
        Assert.DoesNotContain(menu.FindAll("a"), a => a.GetAttribute("href") == "/deliveries");
        Assert.Contains(menu.FindAll("a"), a => a.GetAttribute("href") == "/webhooks");
    }

    [Fact]
    public void Everyone_signed_in_sees_the_sources_link()
    {
        AddAuthorization().SetAuthorized("customer@test.local").SetRoles("Customer");
        var menu = Render<NavMenu>();
        Assert.Contains(menu.FindAll("a"), a => a.GetAttribute("href") == "/sources" && a.TextContent.Contains("Sources"));
    }
}
