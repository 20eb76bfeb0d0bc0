using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts.Rollouts;

/// <summary>
/// Which agents have a rolled-out feature, and which feature names may be rolled out. Leader, agents, API and tests
/// compute the same answer from the worker id alone, so nothing but the rollout record has to be written.
/// </summary>
public static class RolloutShares
{
    /// <summary>Every rollable feature name starts with this: an experimental protocol feature that an agent switches on
    /// and off at run time as its cell's rollout says (<see cref="Protocol.Features.All"/> are fixed by configuration).</summary>
    public const string Prefix = "x-";

    /// <summary>Longest feature name, in characters.</summary>
    public const int MaxFeatureLength = 32;

    /// <summary>The worker's bucket for <paramref name="feature"/>, in [0, 100): the first four bytes of the SHA-256 of
    /// <c>&lt;feature&gt;/&lt;workerId&gt;</c>, big-endian, modulo 100. The feature is part of the hash, so each feature
    /// starts on its own agents rather than always the same canaries.</summary>
    public static int Bucket(string feature, string workerId)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(workerId);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{feature}/{workerId}"), hash);
        return (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(hash) % 100);
    }

    /// <summary>Whether the worker has <paramref name="feature"/> at <paramref name="share"/> percent: its bucket is below
    /// the share. The set of such workers only grows with the share: 0 names none, 100 every one.</summary>
    public static bool Has(string feature, string workerId, int share) => share > 0 && (share >= 100 || Bucket(feature, workerId) < share);

    /// <summary>Whether the worker has the feature as <paramref name="rollout"/> stands now.</summary>
    public static bool Has(RolloutRecord rollout, string workerId)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return rollout.State != RolloutState.Halted && Has(rollout.Feature, workerId, rollout.Share);
    }

    /// <summary>Null when <paramref name="feature"/> may be rolled out (<c>x-</c> then 1 to 30 of <c>[a-z0-9-]</c>), else why not.</summary>
    public static string? FeatureProblem(string? feature)
    {
        const string Rule = "A rollable feature is 'x-' followed by 1 to 30 lowercase letters, digits or '-' (an experimental protocol feature agents switch at run time)";
        if (string.IsNullOrEmpty(feature) || !feature.StartsWith(Prefix, StringComparison.Ordinal) || feature.Length == Prefix.Length)
        {
            return $"{Rule}; got '{feature}'.";
        }

        if (feature.Length > MaxFeatureLength)
        {
            return $"{Rule}; '{feature}' has {feature.Length} characters.";
        }

        for (var i = Prefix.Length; i < feature.Length; i++)
        {
            if (!(char.IsAsciiLetterLower(feature[i]) || char.IsAsciiDigit(feature[i]) || feature[i] == '-'))
            {
                return $"{Rule}; '{feature}' has '{feature[i]}' at {i}.";
            }
        }

        return null;
    }
}
