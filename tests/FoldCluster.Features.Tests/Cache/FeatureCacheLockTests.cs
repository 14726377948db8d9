using FoldCluster.Features.Cache;

namespace FoldCluster.Features.Tests.Cache;

public sealed class FeatureCacheLockTests
{
    [Fact]
    public async Task A_held_lock_makes_the_second_caller_wait_until_it_is_released()
    {
        var cache = new FeatureCache(TestFolders.Create());
        var waits = new List<string>();
        var first = cache.AcquireLock("corpus", null, CancellationToken.None);

        var second = Task.Run(() => cache.AcquireLock("corpus", m => { lock (waits) { waits.Add(m); } }, CancellationToken.None));
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.False(second.IsCompleted, second.Exception?.InnerException?.Message);
        first.Dispose();

        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        lock (waits)
        {
            Assert.Single(waits);
            Assert.StartsWith("waiting for another extraction holding ", waits[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_lock_file_that_cannot_be_created_fails_with_the_cause_instead_of_waiting()
    {
        var dir = TestFolders.Create();
        var cache = new FeatureCache(dir);
        var locks = Path.Combine(dir, "locks");
        Directory.CreateDirectory(locks);
        // The lock file's path leads nowhere (a link into a folder that does not exist): an I/O error, not contention.
        File.CreateSymbolicLink(Path.Combine(locks, "corpus.lock"), Path.Combine(dir, "no-such-folder", "corpus.lock"));

        // Still waiting after 10 s: WaitAsync throws TimeoutException, which fails the assertion.
        var error = await Assert.ThrowsAsync<IOException>(() =>
            Task.Run(() => cache.AcquireLock("corpus", null, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.StartsWith($"feature cache lock {Path.Combine(locks, "corpus.lock")} cannot be taken: ", error.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(error.InnerException);
    }
}
