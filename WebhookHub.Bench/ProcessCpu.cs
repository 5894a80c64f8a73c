using System.Globalization;
using Npgsql;

namespace WebhookHub.Bench;

/// <summary>
/// CPU time from /proc (Linux; USER_HZ is 100 on every Linux the bench runs on): of one process, of a
/// PostgreSQL server (its postmaster, the children it has reaped, and the live ones), and of the whole
/// machine (busy = all but idle and iowait), so a phase can say where the two cores went, including to
/// other people's work on the same machine.
/// </summary>
public static class ProcessCpu
{
    private const double TicksPerSecond = 100;

    /// <summary>User + system seconds of a process (and, with <paramref name="reapedChildren"/>, of its children it has waited for); 0 when it is gone.</summary>
    public static double Seconds(int pid, bool reapedChildren = false)
    {
        var fields = StatFields(pid);
        if (fields is null) return 0;
        // After "(comm)": [0] state (field 3), [1] ppid, … [11] utime (14), [12] stime, [13] cutime, [14] cstime.
        var ticks = Tick(fields[11]) + Tick(fields[12]) + (reapedChildren ? Tick(fields[13]) + Tick(fields[14]) : 0);
        return ticks / TicksPerSecond;
    }

    /// <summary>Everything the server has used: postmaster with its reaped children, plus its live children (backends, checkpointer, WAL writer…).</summary>
    public static double ServerSeconds(int postmaster)
    {
        var total = Seconds(postmaster, reapedChildren: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && StatFields(pid) is { } fields && fields[1] == postmaster.ToString(CultureInfo.InvariantCulture))
                total += Seconds(pid);
        return total;
    }

    /// <summary>The postmaster of the server behind <paramref name="connectionString"/>, when it runs on this machine (the parent of our backend); else null.</summary>
    public static async Task<int?> PostmasterAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        return StatFields(backend) is { } fields && int.TryParse(fields[1], out var parent) ? parent : null;
    }

    /// <summary>Busy seconds of the whole machine, all cores (the first line of /proc/stat, less idle and iowait).</summary>
    public static double MachineBusySeconds()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(Tick).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        var busy = cpu.Take(8).Sum() - cpu[3] - cpu[4];
        return busy / TicksPerSecond;
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static long Tick(string value) => long.Parse(value, CultureInfo.InvariantCulture);
}
