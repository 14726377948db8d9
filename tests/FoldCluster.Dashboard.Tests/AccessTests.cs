using System.Diagnostics;
using System.Globalization;
using System.Net;
using FoldCluster.Cluster.Hosting;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Dashboard.Tests;

/// <summary>`foldcluster dashboard` as a real process: loopback by default, a token beyond it, 401 without the token.</summary>
public sealed class AccessTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Host_beyond_loopback_without_a_token_is_refused_with_exit_code_2()
    {
        var result = await CliProcess.RunAsync(["dashboard", "--host", "0.0.0.0", "--port", "0", "--db", _db.ConnectionString],
            new Dictionary<string, string?> { ["FOLDCLUSTER_DASHBOARD_TOKEN"] = null });
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--host 0.0.0.0 is beyond loopback", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("--token", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("0123456789abcdef;x")]
    [InlineData("0123456789 abcdef")]
    public async Task A_short_or_unsafe_token_is_refused_with_exit_code_2(string token)
    {
        var result = await CliProcess.RunAsync(["dashboard", "--host", "0.0.0.0", "--port", "0", "--token", token, "--db", _db.ConnectionString]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--token must be at least 16 characters", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_token_a_request_without_it_gets_401_and_the_one_time_link_sets_a_cookie_once()
    {
        const string token = "dashboard-test-token-0123456789";
        var port = LoopbackPorts.Free(1)[0];
        using var dashboard = StartDashboard(["--host", "0.0.0.0", "--port", port.ToString(CultureInfo.InvariantCulture), "--token", token, "--db", _db.ConnectionString]);
        var login = dashboard.WaitForLine("one-time link for a browser: ", TimeSpan.FromSeconds(60));
        var loginPath = new Uri(login[(login.IndexOf("http", StringComparison.Ordinal))..]).PathAndQuery;
        var baseUri = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");

        using var anonymous = new HttpClient { BaseAddress = baseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/sweeps")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/assets/dashboard.css")).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Get, "/sweeps");
        wrong.Headers.Add(DashboardServer.TokenHeader, token + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);

        var withHeader = new HttpRequestMessage(HttpMethod.Get, "/sweeps");
        withHeader.Headers.Add(DashboardServer.TokenHeader, token);
        var ok = await anonymous.SendAsync(withHeader);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("<h1>Sweeps</h1>", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var bearer = new HttpRequestMessage(HttpMethod.Get, "/nodes");
        bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(bearer)).StatusCode);

        // Read-only, even with the token.
        var post = new HttpRequestMessage(HttpMethod.Post, "/sweeps");
        post.Headers.Add(DashboardServer.TokenHeader, token);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await anonymous.SendAsync(post)).StatusCode);

        // The one-time link sets the cookie, after which the browser needs nothing else; a second use is refused.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = baseUri };
        var landed = await browser.GetAsync(loginPath);
        Assert.Equal(HttpStatusCode.OK, landed.StatusCode);
        Assert.Equal("/sweeps", landed.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(token, cookies.GetCookies(baseUri)[DashboardServer.TokenCookie]?.Value);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/tables")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(loginPath)).StatusCode);
    }

    [Fact]
    public async Task Loopback_needs_no_token()
    {
        var port = LoopbackPorts.Free(1)[0];
        using var dashboard = StartDashboard(["--port", port.ToString(CultureInfo.InvariantCulture), "--db", _db.ConnectionString]);
        dashboard.WaitForLine("dashboard on http://127.0.0.1:", TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}") };
        var response = await http.GetAsync("/sweeps");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("No sweeps yet", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/sweeps/no-such-sweep")).StatusCode);
    }

    private static DashboardProcess StartDashboard(IEnumerable<string> args) => new(CliProcess.StartInfo(["dashboard", .. args],
        new Dictionary<string, string?> { ["FOLDCLUSTER_DASHBOARD_TOKEN"] = null }));

    /// <summary>A `foldcluster dashboard` process whose stderr lines are collected; killed on dispose.</summary>
    private sealed class DashboardProcess : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];

        public DashboardProcess(ProcessStartInfo info)
        {
            _process = new Process { StartInfo = info };
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_lines)
                    {
                        _lines.Add(e.Data);
                    }
                }
            };
            _process.Start();
            _process.StandardInput.Close();
            _process.BeginErrorReadLine();
            _process.BeginOutputReadLine();
        }

        public string WaitForLine(string contains, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                lock (_lines)
                {
                    if (_lines.FirstOrDefault(l => l.Contains(contains, StringComparison.Ordinal)) is { } line)
                    {
                        return line;
                    }
                }
                Assert.False(_process.HasExited, $"the dashboard exited early: {string.Join('\n', _lines)}");
                Thread.Sleep(100);
            }
            lock (_lines)
            {
                Assert.Fail($"no line containing '{contains}' within {timeout.TotalSeconds} s; stderr:\n{string.Join('\n', _lines)}");
            }
            return "";
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(10_000);
            _process.Dispose();
        }
    }
}
