using System.Globalization;

namespace WebhookHub.Bench;

/// <summary>
/// Where the app process's memory goes: RSS split by kind from /proc (anonymous: GC heap, malloc, stacks;
/// files: mapped assemblies and libraries; shmem: JIT code, double-mapped), and the GC's own figures from
/// the app's /metrics (.NET's System.Runtime meter): what the GC has committed, and the heap after its last collection.
/// </summary>
public sealed class AppMemory(int processId, HttpClient api)
{
    public double RssMb() => Status("VmRSS:");

    public async Task<string> DescribeAsync()
    {
        var metrics = await api.GetStringAsync("/metrics");
        return $"anon {Status("RssAnon:"):0} MB, files {Status("RssFile:"):0} MB, shmem/JIT code {Status("RssShmem:"):0} MB; " +
               $"GC committed {Sum(metrics, "dotnet_gc_last_collection_memory_committed_size_bytes"):0} MB, " +
               $"GC heap after its last collection {Sum(metrics, "dotnet_gc_last_collection_heap_size_bytes"):0} MB";
    }

    /// <summary>A kB figure of /proc/PID/status, in MB.</summary>
    private double Status(string field)
    {
        var line = File.ReadLines($"/proc/{processId}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The sum over every series of one Prometheus metric (e.g. the heap of each generation), in MB.</summary>
    private static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
        .Sum(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture)) / 1048576.0;
}
