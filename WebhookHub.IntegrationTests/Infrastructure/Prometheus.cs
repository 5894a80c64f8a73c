using System.Globalization;
using System.Text.RegularExpressions;

namespace WebhookHub.IntegrationTests.Infrastructure;

/// <summary>Reads the Prometheus text that <c>/metrics</c> serves.</summary>
public static class Prometheus
{
    /// <summary>The value of the first sample of <paramref name="name"/> whose labels contain <paramref name="label"/>.</summary>
    public static double? Sample(string text, string name, string label = "")
    {
        foreach (var line in text.Split('\n'))
        {
            var match = Regex.Match(line, $@"^{Regex.Escape(name)}(\{{(?<labels>[^}}]*)\}})? (?<value>\S+)");
            if (match.Success && match.Groups["labels"].Value.Contains(label))
                return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }
}
