using System.Globalization;
using System.Net;
using System.Text;

namespace FoldCluster.Dashboard;

/// <summary>Small helpers for building pages as strings: every value that comes from the database is encoded.</summary>
internal static class Html
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string U(string text) => Uri.EscapeDataString(text);

    public static string N(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Round-trip text of a double, for data attributes that tests and scripts read back.</summary>
    public static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Time(DateTime? utc) =>
        utc is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "–";

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return span.TotalHours >= 1
            ? $"{(int)span.TotalHours}h {span.Minutes:00}m"
            : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:00}s" : $"{span.Seconds}s";
    }

    /// <summary>The page frame: title, navigation, content; styles and scripts from /assets only.</summary>
    public static string Page(string title, string active, string body, string? script = null, int? refreshSeconds = null)
    {
        var sb = new StringBuilder(body.Length + 1024);
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refreshSeconds is { } r)
        {
            sb.Append("<meta http-equiv=\"refresh\" content=\"").Append(I(r)).Append("\">");
        }
        sb.Append("<title>").Append(E(title)).Append(" · FoldCluster</title>");
        sb.Append("<link rel=\"stylesheet\" href=\"/assets/dashboard.css\"></head><body>");
        sb.Append("<header><a class=\"brand\" href=\"/sweeps\">FoldCluster</a><nav>");
        foreach (var (href, label) in new[] { ("/sweeps", "Sweeps"), ("/tables", "Tables"), ("/compare", "Compare"), ("/nodes", "Nodes") })
        {
            sb.Append("<a href=\"").Append(href).Append('"').Append(label == active ? " class=\"active\"" : "").Append('>').Append(label).Append("</a>");
        }
        sb.Append("</nav><span class=\"live\" id=\"live\"></span></header><main>");
        sb.Append(body);
        sb.Append("</main>");
        if (script is not null)
        {
            sb.Append("<script src=\"/assets/dashboard.js\"></script><script>").Append(script).Append("</script>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    public static string StateClass(string state) => state switch
    {
        "queued" or "running" or "succeeded" or "failed" or "cancelled" => "st-" + state,
        _ => "st-other",
    };
}
