namespace WebhookHub.Web.Hosting;

public static class ConfigurationExtensions
{
    /// <summary>
    /// Reads the repo-root appsettings.json when running from a checkout (<c>dotnet run --project WebhookHub.Web</c>);
    /// a published app finds its copy beside it, which the default configuration already reads.
    /// </summary>
    public static void AddRepoRootSettings(this ConfigurationManager configuration, IHostEnvironment environment)
    {
        var rootFile = Path.GetFullPath(Path.Combine(environment.ContentRootPath, "..", "appsettings.json"));
        if (!File.Exists(rootFile) || File.Exists(Path.Combine(environment.ContentRootPath, "appsettings.json")))
            return;

        // Insert below the environment file, environment variables and command line so they still win.
        var sources = configuration.Sources;
        var index = sources.Select((s, i) => (s, i))
            .FirstOrDefault(p => p.s is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource).i;
        var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = rootFile, Optional = false, ReloadOnChange = false,
        };
        source.ResolveFileProvider();
        sources.Insert(index, source);
        // ./data then means the repo's data folder, not one inside WebhookHub.Web.
        sources.Insert(index, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = [new("WebhookHub:BasePath", Path.GetDirectoryName(rootFile))],
        });
    }
}
