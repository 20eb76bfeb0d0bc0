using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Workflows;

/// <summary>Workflow ids and the ids of their jobs.</summary>
public static class WorkflowIds
{
    /// <summary>The id of a workflow submitted without an Idempotency-Key: new and unique (a version-7 GUID, as for jobs).</summary>
    public static string New() => JobIds.New();

    /// <summary>The id of a workflow submitted with <paramref name="idempotencyKey"/>: derived from the key, so a repeated
    /// submission finds the first one (or resumes writing it) without a separate idempotency record.</summary>
    public static string ForKey(string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        return Hash("workflow-key/" + idempotencyKey);
    }

    /// <summary>The job id of node <paramref name="index"/> (its position in the submitted list) of workflow
    /// <paramref name="workflowId"/>: derived, so a reader knows every job of a workflow from its node count, and a
    /// resumed submission writes the very same jobs.</summary>
    public static string NodeJobId(string workflowId, int index)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        return Hash($"workflow/{workflowId}/{index}");
    }

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..JobIds.Length];
}
