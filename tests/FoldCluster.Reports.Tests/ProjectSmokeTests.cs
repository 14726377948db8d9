namespace FoldCluster.Reports.Tests;

public class AssemblyLoads
{
    [Fact]
    public void Referenced_assembly_has_the_expected_name()
    {
        var name = typeof(AssemblyLoads).Assembly.GetName().Name;
        Assert.Equal("FoldCluster.Reports.Tests", name);
    }
}
