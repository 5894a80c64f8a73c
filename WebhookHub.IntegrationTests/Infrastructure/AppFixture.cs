namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>
/// One real app shared by the tests of a class (an xunit class fixture). A class that needs other
/// settings derives from it and passes them.
/// </summary>
public class AppFixture : IAsyncLifetime
{
    public AppFixture() : this(null) { }

    protected AppFixture(IDictionary<string, string?>? settings) => App = new WebhookHubApp(settings);

    public WebhookHubApp App { get; }

    public Task InitializeAsync()
    {
        _ = App.BaseAddress; // starts the server
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}
