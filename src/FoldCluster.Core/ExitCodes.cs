namespace FoldCluster.Core;

public static class ExitCodes
{
    public const int Success = 0;
    public const int WorkFailed = 1;
    public const int BadUsage = 2;
}
