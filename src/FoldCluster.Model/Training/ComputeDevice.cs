using FoldCluster.Core;
using static TorchSharp.torch;

namespace FoldCluster.Model.Training;

/// <summary>Run-time device choice (DESIGN.md section 2): cpu, cuda, cuda:N, or auto (CUDA when libtorch sees one).</summary>
public static class ComputeDevice
{
    public static Device Resolve(string? name)
    {
        var n = (name ?? "auto").Trim().ToLowerInvariant();
        if (n is "" or "auto")
        {
            return cuda.is_available() ? CUDA : CPU;
        }
        if (n == "cpu")
        {
            return CPU;
        }
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new BadInputException(
                    $"device '{name}' is not available: this build's libtorch sees no CUDA device (use cpu or auto, or build with -p:TorchBackend=cuda on a CUDA machine)");
            }
            if (n == "cuda")
            {
                return CUDA;
            }
            if (!int.TryParse(n.AsSpan(5), out var index) || index < 0 || index >= cuda.device_count())
            {
                throw new BadInputException($"device '{name}' is not available: expected cuda:0 to cuda:{cuda.device_count() - 1}");
            }
            return new Device(TorchSharp.DeviceType.CUDA, index);
        }
        throw new BadInputException($"device '{name}' is not known: expected cpu, cuda, cuda:N or auto");
    }
}
