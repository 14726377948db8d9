using System.Text.Json;
using Dapper;
using FoldCluster.Core;
using Npgsql;

namespace FoldCluster.Storage.Jobs;

/// <summary>The `result_provenance` row of a result (sql/0005), written in the result's own transaction.</summary>
internal static class ResultProvenanceRows
{
    /// <summary>The insert as `insert ... select`, so the result's batch can add its fencing condition (`where ...`).</summary>
    public const string InsertSelect = """
        insert into result_provenance (job_id, code_version, torchsharp_version, libtorch_version, device, device_name,
            cpu_model, cpu_isa, threads, worker_host, feature_cache_key, utterance_modalities, utterances, left_out)
        select @jobId, @CodeVersion, @TorchSharpVersion, @LibtorchVersion, @Device, @DeviceName,
            @CpuModel, @CpuIsa, @Threads, @WorkerHost, @FeatureCacheKey, @UtteranceModalities, @Utterances, @leftOut::jsonb
        """;

    /// <summary>The parameters of <see cref="InsertSelect"/> besides @jobId.</summary>
    public static void AddParameters(DynamicParameters parameters, ResultProvenance p)
    {
        parameters.AddDynamicParams(new
        {
            p.CodeVersion,
            p.TorchSharpVersion,
            p.LibtorchVersion,
            p.Device,
            p.DeviceName,
            p.CpuModel,
            p.CpuIsa,
            p.Threads,
            p.WorkerHost,
            p.FeatureCacheKey,
            p.UtteranceModalities,
            p.Utterances,
            leftOut = JsonSerializer.Serialize(p.LeftOut),
        });
    }
}
