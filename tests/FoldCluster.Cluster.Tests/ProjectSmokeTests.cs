namespace FoldCluster.Cluster.Tests;

public class AssemblyLoads
{
    [Fact]
    public void Referenced_assembly_has_the_expected_name()
    {
        var name = typeof(AssemblyLoads).Assembly.GetName().Name;
        Assert.Equal("FoldCluster.Cluster.Tests", name);
    }
}
