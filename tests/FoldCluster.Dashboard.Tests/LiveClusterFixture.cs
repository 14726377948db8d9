using System.Globalization;
using Dapper;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Core.Sweeps;
using FoldCluster.Storage.Sweeps;
using FoldCluster.Tests.Shared;
using Microsoft.Playwright;

namespace FoldCluster.Dashboard.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveClusterCollection : ICollectionFixture<LiveClusterFixture>
{
    public const string Name = "dashboard over a live local cluster";
}

/// <summary>
/// A real local cluster for the browser tests: two `foldcluster node` processes on loopback (coordinator + worker,
/// worker; two CPU slots each) with the simulated trainer, a finished two-method sweep, the dashboard served
/// in-process on a free port, and Debian's Chromium driven by Playwright (never a downloaded browser).
/// </summary>
public sealed class LiveClusterFixture : IAsyncLifetime
{
    public const string FinishedSweep = "dashboard-finished";
    public const string ChromiumPath = "/usr/bin/chromium";

    // Quick failure detection and polling so a sweep of a few dozen simulated jobs takes seconds.
    private const string Config = """
        akka.cluster.failure-detector.heartbeat-interval = 1s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 6s
        akka.cluster.split-brain-resolver.stable-after = 3s
        foldcluster.lease = 10s
        foldcluster.lease-check-interval = 1s
        foldcluster.idle-poll = 200ms
        foldcluster.register-interval = 1s
        foldcluster.request-timeout = 5s
        """;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("foldcluster-dashboard-test-");
    private readonly List<NodeProcess> _nodes = [];

    public TestDatabase Db { get; private set; } = null!;
    public DashboardServer Server { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public long FinishedSweepId { get; private set; }

    /// <summary>Screenshots of every page, in the test output folder.</summary>
    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium package (scripts/test.sh does: apt-get install chromium)");
        Db = await TestDatabase.CreateAsync();
        var config = Path.Combine(_dir.FullName, "test.hocon");
        await File.WriteAllTextAsync(config, Config);
        var ports = LoopbackPorts.Free(2);
        var seeds = $"127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}";
        NodeProcess Start(int i, string roles) => NodeProcess.StartWithEvents(Path.Combine(AppContext.BaseDirectory, "foldcluster.dll"), $"n{i + 1}",
        [
            "--roles", roles, "--port", ports[i].ToString(CultureInfo.InvariantCulture), "--seeds", seeds, "--slots", "cpu:2",
            "--db", Db.ConnectionString, "--cache", Path.Combine(_dir.FullName, "cache"), "--config", config,
            "--trainer", "simulated:1.0", "--node-name", $"n{i + 1}",
        ], Path.Combine(_dir.FullName, $"n{i + 1}.events.jsonl"));
        var n1 = Start(0, "coordinator,worker");
        _nodes.Add(n1);
        Assert.True(n1.WaitForEvent<FoldCluster.Cluster.Events.CoordinatorStartedEvent>(_ => true, 1, TimeSpan.FromSeconds(90)), Tail());
        _nodes.Add(Start(1, "worker"));
        Assert.True(n1.WaitForEvent<FoldCluster.Cluster.Events.WorkerRegisteredEvent>(_ => true, 2, TimeSpan.FromSeconds(90)), Tail());

        FinishedSweepId = (await SubmitAsync(FinishedSweep, ["cmha", "concat"], 1)).SweepId;
        await WaitForSweepAsync(FinishedSweepId, TimeSpan.FromMinutes(3));

        Server = await DashboardServer.StartAsync(new DashboardOptions
        {
            ConnectionString = Db.ConnectionString,
            Port = 0,
            LiveInterval = TimeSpan.FromMilliseconds(500),
        });

        // The browser is the system's; Playwright only drives it.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    /// <summary>A simulated sweep: the given methods x A+V+T x ten folds x the given number of seeds.</summary>
    public Task<SweepSubmission> SubmitAsync(string name, string[] methods, int seeds) =>
        new SweepStore(Db.DataSource).SubmitAsync(new SweepSpec(
            name,
            [new DatasetSpec("simulated", "iemocap", "simulated-corpus", null, "resnet50", null, true, new Dictionary<string, string>())],
            methods,
            ["AVT"],
            [true],
            [.. Enumerable.Range(0, SweepSpec.FoldCount)],
            ["utterance"],
            [.. Enumerable.Range(1, seeds)],
            "tiny",
            new Dictionary<string, string>(),
            [],
            SweepSpec.DefaultMaxAttempts), "test");

    public async Task WaitForSweepAsync(long sweepId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var open = -1;
        while (DateTime.UtcNow < deadline)
        {
            await using var c = await Db.DataSource.OpenConnectionAsync();
            open = await c.ExecuteScalarAsync<int>("select count(*)::int from jobs where sweep_id = @sweepId and state in ('queued', 'running')", new { sweepId });
            if (open == 0)
            {
                return;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"sweep {sweepId} still had {open} open jobs after {timeout.TotalSeconds} s; nodes:\n{Tail()}");
    }

    public async Task<IPage> OpenAsync(string path)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        page.SetDefaultTimeout(60_000);
        var response = await page.GotoAsync(Server.Url + path);
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = fullPage });

    public string Tail() => string.Join('\n', _nodes.SelectMany(n => n.Lines.TakeLast(20).Select(l => $"{n.Name}: {l}")));

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        if (Db is not null)
        {
            await Db.DisposeAsync();
        }
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a node that is still exiting may hold a file; the system cleans its temporary folder
        }
    }
}
