using Bunit;
using MudBlazor.Services;
using WebhookHub.Core.Sources;
using WebhookHub.Web.Features.Sources;

namespace WebhookHub.Tests.Ui;

/// <summary>The health chip on the sources list, the details page and the monitoring panel.</summary>
public sealed class SourceHealthChipTests : BunitContext, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    public SourceHealthChipTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    private static readonly DateTime Checked = new(2026, 12, 2, 9, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(true, false, 0, "not checked yet", "mud-chip-color-default")]
    [InlineData(true, true, 0, "healthy", "mud-chip-color-success")]
    [InlineData(false, true, 0, "paused", "mud-chip-color-default")]
    [InlineData(true, true, 1, "1 failure", "mud-chip-color-warning")]
    [InlineData(true, true, 2, "2 failures", "mud-chip-color-warning")]
    [InlineData(true, true, SourceHealthChip.FailingAfter, "3 failures", "mud-chip-color-error")]
    [InlineData(false, true, 7, "7 failures", "mud-chip-color-error")]
    public void Consecutive_failures_decide_the_chip(bool active, bool everChecked, int failures, string label, string colour)
    {
        var source = new Source
        {
            Name = "Fees", Url = "https://www.gov.uk/fees", Route = "uk-fees", IsActive = active,
            LastCheckedAt = everChecked ? Checked : null, ConsecutiveFailures = failures, LastError = failures > 0 ? "HTTP 503" : null,
        };
        var chip = Render<SourceHealthChip>(p => p.Add(c => c.Source, source)).Find("[data-testid=source-health]");
        Assert.Equal(label, chip.TextContent.Trim());
        Assert.True(chip.ClassList.Contains(colour), chip.ClassName);
    }
}
