using System.Globalization;

namespace FoldCluster.Cli.Commands.Cluster;

/// <summary>
/// The machine's CPU time so far, all cores together, from the first line of /proc/stat (Linux; NaN elsewhere):
/// busy = user + nice + system + irq + softirq, and steal (time the hypervisor gave to others) apart.
/// </summary>
public readonly record struct MachineCpu(double BusySeconds, double StealSeconds)
{
    public static MachineCpu operator -(MachineCpu a, MachineCpu b) => new(a.BusySeconds - b.BusySeconds, a.StealSeconds - b.StealSeconds);

    public static MachineCpu Read()
    {
        try
        {
            return Parse(File.ReadLines("/proc/stat").First());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return new MachineCpu(double.NaN, double.NaN);
        }
    }

    /// <summary>Parses the aggregate "cpu" line (fields in clock ticks of 1/100 s, as the kernel reports USER_HZ).</summary>
    public static MachineCpu Parse(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9 || fields[0] != "cpu")
        {
            throw new FormatException($"/proc/stat: expected the aggregate line 'cpu user nice system idle iowait irq softirq steal ...', got '{line}'");
        }
        double Ticks(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        const double TicksPerSecond = 100;
        var busy = Ticks(1) + Ticks(2) + Ticks(3) + Ticks(6) + Ticks(7);
        return new MachineCpu(busy / TicksPerSecond, Ticks(8) / TicksPerSecond);
    }
}
