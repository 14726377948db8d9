using System.Text;
using FoldCluster.Cluster.Hosting;

namespace FoldCluster.Cluster.Tests;

public sealed class QueuedLineWriterTests
{
    [Fact]
    public void Lines_written_from_many_threads_arrive_whole_once_each_and_in_each_threads_order()
    {
        var output = new MemoryStream();
        using (var writer = TextWriter.Synchronized(new QueuedLineWriter(output)))
        {
            Parallel.For(0, 16, thread =>
            {
                for (var i = 0; i < 2000; i++)
                {
                    writer.WriteLine($"thread {thread} line {i} ünïcode");
                }
            });
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(16 * 2000, lines.Length);
        foreach (var group in lines.GroupBy(l => l.Split(' ')[1]))
        {
            Assert.Equal(Enumerable.Range(0, 2000).Select(i => $"thread {group.Key} line {i} ünïcode"), group);
        }
    }

    [Fact]
    public void Flush_returns_once_what_was_queued_is_written()
    {
        var output = new MemoryStream();
        using var writer = new QueuedLineWriter(output);
        writer.Write("partial ");
        writer.WriteLine("line");

        writer.Flush();

        Assert.Equal("partial line" + Environment.NewLine, Encoding.UTF8.GetString(output.ToArray()));
    }
}
