using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FoldCluster.Core;
using FoldCluster.Dashboard.Pages;
using FoldCluster.Reports;
using FoldCluster.Reports.Queries;
using FoldCluster.Storage;
using FoldCluster.Storage.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FoldCluster.Dashboard;

/// <summary>
/// The web dashboard (`foldcluster dashboard`): read-only pages over the result database with stable URLs
/// (/sweeps, /sweeps/{name}, /jobs/{id}, /tables, /compare, /nodes), live counts and cells by server-sent events,
/// charts drawn as SVG on the server and every asset served from the assembly. Beyond loopback every request must
/// carry the token (header, or the cookie set from the one-time link) or gets 401.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    public const string TokenHeader = "X-FoldCluster-Token";
    public const string TokenCookie = "foldcluster_token";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;
    private readonly NpgsqlDataSource _dataSource;
    private readonly DashboardOptions _options;
    private readonly DashboardQueries _queries;
    private readonly ResultQueries _results;
    private readonly TablesCache _tables;
    private readonly byte[]? _token;
    private string? _loginCode;

    private DashboardServer(DashboardOptions options)
    {
        options.Validate();
        _options = options;
        _dataSource = Database.CreateDataSource(options.ConnectionString, "foldcluster-dashboard");
        _queries = new DashboardQueries(_dataSource);
        _results = new ResultQueries(_dataSource);
        _tables = new TablesCache(_dataSource, _queries);
        _token = options.Token is { } t ? Encoding.UTF8.GetBytes(t) : null;
        _loginCode = options.Token is null ? null : Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var address = options.Address();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, options.Port));
        _app = builder.Build();
        Map(_app);
    }

    /// <summary>The address it listens on, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for).</summary>
    public string Url { get; private set; } = "";

    /// <summary>The one-time link that sets the token cookie (null without a token); it works once.</summary>
    public string? LoginUrl => _loginCode is null ? null : $"{Url}/login?code={_loginCode}";

    public static async Task<DashboardServer> StartAsync(DashboardOptions options, CancellationToken ct = default)
    {
        var server = new DashboardServer(options);
        try
        {
            await server._app.StartAsync(ct);
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await server.DisposeAsync();
            throw new BadInputException($"port {options.Port} on {options.Host} is already in use; choose another with --port");
        }
        var bound = server._app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = bound.Replace("[::]", "[::1]", StringComparison.Ordinal).Replace("0.0.0.0", HostForLinks(options), StringComparison.Ordinal).TrimEnd('/');
        return server;
    }

    private static string HostForLinks(DashboardOptions options) => options.Host == "0.0.0.0" ? Environment.MachineName : options.Host;

    public Task WaitForShutdownAsync(CancellationToken ct) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
            // stopping while live pages are connected: they are cut, which is what stopping means
        }
        await _app.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        // Server time of every response, as the benchmark reads it (Server-Timing: app;dur=ms).
        app.Use(async (context, next) =>
        {
            var clock = Stopwatch.StartNew();
            context.Response.OnStarting(() =>
            {
                context.Response.Headers["Server-Timing"] = "app;dur=" + clock.Elapsed.TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            await next(context);
        });
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                context.Response.Headers.Allow = "GET, HEAD";
                await context.Response.WriteAsync("the dashboard is read-only: GET and HEAD only\n");
                return;
            }
            if (_token is not null && !Authorized(context))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync($"401: this dashboard needs its token: send it in the {TokenHeader} header (or Authorization: Bearer), or open the one-time link printed when it started\n");
                return;
            }
            context.Response.Headers["X-Content-Type-Options"] = "nosniff";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'";
            try
            {
                await next(context);
            }
            catch (BadInputException e) when (!context.Response.HasStarted)
            {
                await Send(context, Html.Page("Not found", "", $"<h1>Not found</h1><p class=\"note\">{Html.E(e.Message)}</p>"), StatusCodes.Status400BadRequest);
            }
            catch (DatabaseUnreachableException e) when (!context.Response.HasStarted)
            {
                await Send(context, Html.Page("Database unreachable", "", $"<h1>Database unreachable</h1><p class=\"note\">{Html.E(e.Message)}</p>"), StatusCodes.Status503ServiceUnavailable);
            }
        });

        app.MapGet("/", () => Results.Redirect("/sweeps"));
        app.MapGet("/login", (HttpContext context) => Login(context));
        app.MapGet("/assets/{name}", (string name) => Asset(name));
        app.MapGet("/sweeps", async (HttpContext c) => await Send(c, SweepsPage.Render(await _queries.SweepsAsync(c.RequestAborted), DateTime.UtcNow)));
        app.MapGet("/sweeps/events", (HttpContext c) => Events(c, async ct =>
        {
            var now = DateTime.UtcNow;
            return (await _queries.SweepsAsync(ct)).Select(s => SweepsPage.Counts(s, now)).ToList();
        }));
        app.MapGet("/sweeps/{name}", (HttpContext c, string name) => SweepAsync(c, name));
        app.MapGet("/sweeps/{name}/events", (HttpContext c, string name) => SweepEventsAsync(c, name));
        app.MapGet("/jobs/{id}", (HttpContext c, string id) => JobAsync(c, id));
        app.MapGet("/tables", (HttpContext c) => TablesAsync(c));
        app.MapGet("/tables/file", (HttpContext c) => TableFileAsync(c));
        app.MapGet("/compare", (HttpContext c) => CompareAsync(c));
        app.MapGet("/nodes", async (HttpContext c) =>
        {
            var workers = await new WorkerHeartbeats(_dataSource).SeenWithinAsync(_options.NodesWindow, c.RequestAborted);
            var running = await _queries.RunningJobsAsync(workers.Select(w => w.Worker).ToList(), c.RequestAborted);
            await Send(c, NodesPage.Render(workers, running, _options.NodesWindow, DateTime.UtcNow));
        });
    }

    private bool Authorized(HttpContext context)
    {
        var request = context.Request;
        if (request.Path == "/login")
        {
            return true; // checked by the one-time code itself
        }
        string? given = request.Headers[TokenHeader].FirstOrDefault();
        if (given is null && request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            given = auth["Bearer ".Length..].Trim();
        }
        given ??= request.Cookies[TokenCookie];
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
    }

    private IResult Login(HttpContext context)
    {
        var code = context.Request.Query["code"].FirstOrDefault();
        var expected = Volatile.Read(ref _loginCode);
        if (_token is null)
        {
            return Results.Redirect("/sweeps");
        }
        if (code is null || expected is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(code), Encoding.UTF8.GetBytes(expected))
            || Interlocked.CompareExchange(ref _loginCode, null, expected) != expected)
        {
            return Results.Text("401: this one-time link is not valid (it works once); send the token in the X-FoldCluster-Token header instead\n",
                "text/plain", Encoding.UTF8, StatusCodes.Status401Unauthorized);
        }
        context.Response.Cookies.Append(TokenCookie, _options.Token!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
        });
        return Results.Redirect("/sweeps");
    }

    private static IResult Asset(string name)
    {
        var stream = typeof(DashboardServer).Assembly.GetManifestResourceStream("assets/" + name);
        if (stream is null)
        {
            return Results.NotFound();
        }
        var type = name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8"
            : name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8"
            : "application/octet-stream";
        return Results.Stream(stream, type);
    }

    private static async Task Send(HttpContext context, string html, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(html, context.RequestAborted);
    }

    private static JobFilter Filter(HttpRequest request)
    {
        string? Value(string key) => request.Query[key].FirstOrDefault() is { Length: > 0 } v ? v : null;
        var state = Value("state");
        if (state is not null && !SweepsPage.States.Contains(state))
        {
            throw new BadInputException($"state '{state}' is not known: expected one of {string.Join(", ", SweepsPage.States)}");
        }
        return new JobFilter
        {
            Dataset = Value("dataset"),
            Method = Value("method")?.ToLowerInvariant(),
            Modalities = Value("modalities") is { } m ? ReportNames.ParseModalities(m) : null,
            State = state,
            Pretrained = Value("pretraining") switch { "mcwsa" => true, "np" => false, null => null, var other => throw new BadInputException($"pre-training '{other}' is not known: expected mcwsa or np") },
        };
    }

    private async Task SweepAsync(HttpContext context, string name)
    {
        var ct = context.RequestAborted;
        var filter = Filter(context.Request);
        var offset = int.TryParse(context.Request.Query["offset"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        var row = await FindSweepRowAsync(name, ct);
        var gridFilter = filter with { State = null };
        // The grid (one aggregate over the sweep's jobs) and the job list (index reads) run on two connections at once.
        var jobsTask = _queries.JobsAsync(row.SweepId, filter, SweepPage.PageSize, offset, ct);
        var grid = await _queries.GridAsync(row.SweepId, gridFilter, ct);
        var unfiltered = gridFilter == new JobFilter() ? grid : await _queries.GridAsync(row.SweepId, new JobFilter(), ct);
        var sweep = SweepOverview.FromGrid(row, unfiltered);
        var jobs = await jobsTask;
        var total = filter.State switch
        {
            null => grid.Sum(c => c.Jobs),
            "queued" => grid.Sum(c => c.Queued),
            "running" => grid.Sum(c => c.Running),
            "succeeded" => grid.Sum(c => c.Succeeded),
            "failed" => grid.Sum(c => c.Failed),
            _ => grid.Sum(c => c.Cancelled),
        };
        var query = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : "";
        await Send(context, SweepPage.Render(sweep, grid, unfiltered, jobs, total, filter, offset, query, DateTime.UtcNow));
    }

    private async Task<SweepOverview> FindSweepRowAsync(string name, CancellationToken ct) =>
        await _queries.SweepRowAsync(name, ct) ?? throw new BadInputException($"sweep '{name}' does not exist; the sweeps page lists the ones that do");

    private Task SweepEventsAsync(HttpContext context, string name)
    {
        var filter = Filter(context.Request) with { State = null };
        return Events(context, async ct =>
        {
            var row = await FindSweepRowAsync(name, ct);
            var grid = await _queries.GridAsync(row.SweepId, filter, ct);
            var all = filter == new JobFilter() ? grid : await _queries.GridAsync(row.SweepId, new JobFilter(), ct);
            return new { Counts = SweepsPage.Counts(SweepOverview.FromGrid(row, all), DateTime.UtcNow), Cells = grid.Select(SweepPage.Cell).ToList() };
        });
    }

    /// <summary>
    /// A server-sent event stream: the snapshot is read every live interval and sent as an `update` event when it
    /// changed (a comment line keeps idle connections open). Ends when the client leaves or the server stops.
    /// </summary>
    private async Task Events<T>(HttpContext context, Func<CancellationToken, Task<T>> snapshot)
    {
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = linked.Token;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        string? last = null;
        var quiet = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                string? json = null;
                try
                {
                    json = JsonSerializer.Serialize(await snapshot(ct), Json);
                }
                catch (Exception e) when (Database.IsConnectionFailure(e))
                {
                    await context.Response.WriteAsync("event: offline\ndata: {}\n\n", ct);
                }
                if (json is not null && json != last)
                {
                    await context.Response.WriteAsync($"event: update\ndata: {json}\n\n", ct);
                    last = json;
                    quiet = 0;
                }
                else if (++quiet % 15 == 0)
                {
                    await context.Response.WriteAsync(": still here\n\n", ct);
                }
                await context.Response.Body.FlushAsync(ct);
                await Task.Delay(_options.LiveInterval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the page was closed or the dashboard stops
        }
    }

    private async Task JobAsync(HttpContext context, string id)
    {
        var ct = context.RequestAborted;
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId))
        {
            throw new BadInputException($"job '{id}' is not a job number");
        }
        var job = await _queries.JobAsync(jobId, ct) ?? throw new BadInputException($"job {jobId} does not exist");
        var attempts = await _queries.AttemptsAsync(jobId, ct);
        var result = await _queries.ResultAsync(jobId, ct);
        var epochs = await _results.EpochsAsync(jobId, ct);
        await Send(context, JobPage.Render(job, attempts, result, epochs));
    }

    private async Task<(SweepOverview Sweep, TablesRendering Rendering)?> RenderingAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var name = context.Request.Query["sweep"].FirstOrDefault();
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        var sweep = await FindSweepRowAsync(name, ct);
        var split = context.Request.Query["split"].FirstOrDefault() is { Length: > 0 } s ? s : null;
        var profile = context.Request.Query["profile"].FirstOrDefault() is { Length: > 0 } p ? p : null;
        return (sweep, await _tables.GetAsync(sweep, split, profile, ct));
    }

    private async Task TablesAsync(HttpContext context)
    {
        if (await RenderingAsync(context) is not { } found)
        {
            await Send(context, TablesPage.Chooser(await _queries.SweepsAsync(context.RequestAborted), "tables", "Tables"));
            return;
        }
        await Send(context, TablesPage.Render(found.Sweep, found.Rendering));
    }

    private async Task TableFileAsync(HttpContext context)
    {
        var name = context.Request.Query["name"].FirstOrDefault() ?? "";
        if (await RenderingAsync(context) is not { } found || !found.Rendering.Files.TryGetValue(name, out var bytes))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"no file '{name}' for this sweep (the tables page lists the files)\n");
            return;
        }
        var type = Path.GetExtension(name) switch
        {
            ".png" => "image/png",
            ".csv" => "text/csv; charset=utf-8",
            ".md" => "text/markdown; charset=utf-8",
            ".tex" => "application/x-tex; charset=utf-8",
            _ => "application/octet-stream",
        };
        if (type != "image/png")
        {
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{found.Sweep.Name}-{name}\"";
        }
        context.Response.ContentType = type;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task CompareAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var name = query["sweep"].FirstOrDefault();
        if (string.IsNullOrEmpty(name))
        {
            await Send(context, TablesPage.Chooser(await _queries.SweepsAsync(ct), "compare", "Compare"));
            return;
        }
        var sweep = await FindSweepRowAsync(name, ct);
        var methods = await _queries.MethodsAsync(sweep.SweepId, ct);
        var a = query["a"].FirstOrDefault();
        var b = query["b"].FirstOrDefault();
        CompareRequest? request = null;
        CompareOutcome? outcome = null;
        if (!string.IsNullOrEmpty(a) && !string.IsNullOrEmpty(b))
        {
            request = new CompareRequest
            {
                Sweep = sweep.SweepId.ToString(CultureInfo.InvariantCulture),
                MethodA = a.ToLowerInvariant(),
                MethodB = b.ToLowerInvariant(),
                Modalities = query["modalities"].FirstOrDefault() is { Length: > 0 } m ? ReportNames.ParseModalities(m) : "AVT",
                Pretrained = query["np"].FirstOrDefault() is not ("1" or "true" or "on"),
                Dataset = query["dataset"].FirstOrDefault() is { Length: > 0 } d ? d : null,
                Split = query["split"].FirstOrDefault() is { Length: > 0 } s ? s : null,
                Profile = query["profile"].FirstOrDefault() is { Length: > 0 } p ? p : null,
                Metric = (query["metric"].FirstOrDefault() is { Length: > 0 } x ? x : "ua").ToLowerInvariant(),
            };
            outcome = await new MethodComparison(_dataSource).CompareAsync(request, ct);
        }
        await Send(context, ComparePage.Render(sweep, methods, request, outcome));
    }
}
