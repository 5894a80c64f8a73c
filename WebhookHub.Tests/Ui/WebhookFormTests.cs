using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using WebhookHub.Core;
using WebhookHub.Core.Events;
using WebhookHub.Core.Webhooks;
using WebhookHub.Web.Features.Webhooks;

namespace WebhookHub.Tests.Ui;

/// <summary>The create/edit form says what is wrong as the user types, with the Core validators' sentences.</summary>
public sealed class WebhookFormTests : BunitContext, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose only asynchronously.
    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    private readonly List<WebhookInput> _saved = [];
    private IReadOnlyDictionary<string, string>? _serverErrors;
    private IRenderedComponent<MudPopoverProvider>? _popovers;

    public WebhookFormTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        // Production defaults: https only, no private networks.
        Services.AddSingleton(new WebhookUrlValidator(Options.Create(new WebhookHubOptions())));
    }

    private IRenderedComponent<WebhookForm> RenderForm(Webhook? existing = null)
    {
        _popovers = Render<MudPopoverProvider>();
        return Render<WebhookForm>(p => p
            .Add(f => f.Existing, existing)
            .Add(f => f.Save, input =>
            {
                _saved.Add(input);
                return Task.FromResult(_serverErrors);
            }));
    }

    private static IRenderedComponent<WebhookForm> Type(IRenderedComponent<WebhookForm> form, string id, string text)
    {
        form.Find($"#{id}").Input(text);
        return form;
    }

    private static AngleSharp.Dom.IElement CreateButton(IRenderedComponent<WebhookForm> form) =>
        form.FindAll("button").Single(b => b.TextContent.Contains("Create webhook"));

    private static string? HelperOf(IRenderedComponent<WebhookForm> form, string id) =>
        form.Find($"#{id}").Closest(".mud-input-control")?.QuerySelector(".mud-input-helper-text")?.TextContent.Trim();

    [Theory]
    [InlineData("example.com/hook", "URL must be an absolute URL such as https://example.com/webhooks")]
    [InlineData("http://93.184.216.34/hook", "URL must use https")]
    [InlineData("https://user:pw@93.184.216.34/hook", "URL must not contain credentials")]
    [InlineData("https://127.0.0.1/hook", WebhookUrlValidator.UnreachableHost)]
    public void Url_shows_the_core_validators_message_as_the_user_types(string url, string message)
    {
        var form = Type(RenderForm(), "webhook-url", url);
        form.WaitForAssertion(() => Assert.Equal(message, HelperOf(form, "webhook-url")));
        Assert.True(CreateButton(form).HasAttribute("disabled"), "Create stays disabled while the URL is wrong");
    }

    [Fact]
    public void A_good_url_clears_the_message_as_the_user_keeps_typing()
    {
        var form = Type(RenderForm(), "webhook-url", "http://93.184.216.34");
        form.WaitForAssertion(() => Assert.Equal("URL must use https", HelperOf(form, "webhook-url")));
        Type(form, "webhook-url", "https://93.184.216.34/hook");
        form.WaitForAssertion(() => Assert.DoesNotContain("must", HelperOf(form, "webhook-url")));
    }

    [Fact]
    public void Name_is_required_once_emptied()
    {
        var form = Type(RenderForm(), "webhook-name", "CRM");
        Assert.NotEqual("Name is required", HelperOf(form, "webhook-name"));
        Type(form, "webhook-name", "  ");
        Assert.Equal("Name is required", HelperOf(form, "webhook-name"));
    }

    [Fact]
    public void Submitting_an_empty_form_names_every_problem_and_saves_nothing()
    {
        var form = RenderForm();
        CreateButton(form).Click();
        form.WaitForAssertion(() =>
        {
            Assert.Equal("Name is required", HelperOf(form, "webhook-name"));
            Assert.Equal("URL is required", HelperOf(form, "webhook-url"));
        });
        Assert.Empty(_saved);
    }

    [Fact]
    public void Unselecting_every_event_says_at_least_one_is_needed()
    {
        var form = RenderForm();
        var popovers = _popovers!;
        form.Find("#webhook-events").Closest(".mud-select")!.MouseDown();
        popovers.WaitForAssertion(() => Assert.Contains(popovers.FindAll(".mud-list-item"), i => i.TextContent.Contains(EventTypes.PolicyChangeDetected)));
        popovers.FindAll(".mud-list-item").First(i => i.TextContent.Contains(EventTypes.PolicyChangeDetected)).Click();
        form.WaitForAssertion(() => Assert.StartsWith("Events must name at least one event type", HelperOf(form, "webhook-events")));
    }

    [Fact]
    public void A_valid_form_saves_name_url_events_routes_and_the_switch()
    {
        var form = Type(Type(RenderForm(), "webhook-name", " CRM "), "webhook-url", "https://93.184.216.34/hook");
        Type(form, "webhook-routes", "uk-student-visa, uk-skilled-worker");
        form.WaitForAssertion(() => Assert.False(CreateButton(form).HasAttribute("disabled")));
        CreateButton(form).Click();
        form.WaitForAssertion(() => Assert.Single(_saved));
        var input = _saved[0];
        Assert.Equal(" CRM ", input.Name);
        Assert.Equal("https://93.184.216.34/hook", input.Url);
        Assert.Equal([EventTypes.PolicyChangeDetected], input.Events);
        Assert.Equal(["uk-student-visa", "uk-skilled-worker"], input.Routes);
        Assert.True(input.IsActive);
        Assert.Null(input.MaxPerSecond);
        Assert.True(input.RedriveOnRecovery, "redrive is on by default");
    }

    [Fact]
    public void Editing_keeps_the_rate_cap_and_the_redrive_switch_and_saves_them()
    {
        var existing = new Webhook
        {
            Id = Guid.NewGuid(), UserId = "u", Name = "CRM", Url = "https://93.184.216.34/hook", Secret = "x",
            Events = [EventTypes.PolicyChangeDetected], MaxPerSecond = 5, RedriveOnRecovery = false,
        };
        var form = RenderForm(existing);
        Assert.Equal("5", form.Find("#webhook-max-per-second").GetAttribute("value"));
        form.Find("#webhook-max-per-second").Change("7");
        var save = form.FindAll("button").Single(b => b.TextContent.Contains("Save changes"));
        form.WaitForAssertion(() => Assert.False(save.HasAttribute("disabled")));
        save.Click();
        form.WaitForAssertion(() => Assert.Single(_saved));
        Assert.Equal(7, _saved[0].MaxPerSecond);
        Assert.False(_saved[0].RedriveOnRecovery);
    }

    [Fact]
    public void The_servers_refusal_shows_on_its_field()
    {
        _serverErrors = new Dictionary<string, string> { ["routes"] = "routes must not contain empty entries" };
        var form = Type(Type(RenderForm(), "webhook-name", "CRM"), "webhook-url", "https://93.184.216.34/hook");
        form.WaitForAssertion(() => Assert.False(CreateButton(form).HasAttribute("disabled")));
        CreateButton(form).Click();
        form.WaitForAssertion(() => Assert.Equal("Routes must not contain empty entries", HelperOf(form, "webhook-routes")));
    }
}
