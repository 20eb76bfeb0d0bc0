namespace ControlPlane.Contracts;

/// <summary>
/// Cells: scheduling shards, each with its own election, fencing epoch, workers, jobs and assignments (docs/cells.md).
/// The <see cref="Default"/> cell is the layout at the store's root (a one-cell deployment is today's layout, byte for
/// byte); a named cell keeps the same per-cell keys under <c>cells/&lt;cell&gt;/</c>.
/// </summary>
public static class Cells
{
    /// <summary>The cell whose keys are at the store's root; agents and jobs that name no cell belong to it.</summary>
    public const string Default = "default";

    /// <summary><c>cells</c>: the parent of every named cell's subtree.</summary>
    public const string Parent = "cells";

    /// <summary>Longest cell name, in characters.</summary>
    public const int MaxNameLength = 32;

    /// <summary>Null when <paramref name="name"/> is a valid cell name (<c>[a-z0-9-]{1,32}</c>), else why not, naming
    /// the first offending character.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A cell name has 1 to 32 characters of [a-z0-9-]; got an empty name.";
        }

        if (name.Length > MaxNameLength)
        {
            return $"A cell name has 1 to {MaxNameLength} characters of [a-z0-9-]; '{name}' has {name.Length}.";
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (!(char.IsAsciiLetterLower(name[i]) || char.IsAsciiDigit(name[i]) || name[i] == '-'))
            {
                return $"Cell name '{name}' has '{name[i]}' at {i}; cell names use lowercase letters, digits and '-' (at most {MaxNameLength}).";
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="name"/> is a valid cell name.</summary>
    public static bool IsValid(string? name) => Problem(name) is null;

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when <paramref name="name"/> is not a valid cell name.</summary>
    /// <param name="name">The name to check.</param>
    /// <param name="parameterName">Reported as the offending argument.</param>
    public static void Validate(string? name, string parameterName = "cell")
    {
        if (Problem(name) is { } problem)
        {
            throw new ArgumentException(problem, parameterName);
        }
    }

    /// <summary>The key prefix of <paramref name="cell"/>'s subtree, relative to the store's root: empty for
    /// <see cref="Default"/> (its keys are at the root), <c>cells/&lt;cell&gt;</c> otherwise.</summary>
    /// <exception cref="ArgumentException"><paramref name="cell"/> is not a valid cell name.</exception>
    public static string Prefix(string cell)
    {
        Validate(cell);
        return cell == Default ? "" : $"{Parent}/{cell}";
    }

    /// <summary>The key, relative to the store's root, of <paramref name="cell"/>'s <paramref name="key"/>: the key itself
    /// in the default cell, <c>cells/&lt;cell&gt;/&lt;key&gt;</c> in a named one (for a transaction that writes a cell's key
    /// and a global one together).</summary>
    /// <exception cref="ArgumentException"><paramref name="cell"/> is not a valid cell name.</exception>
    public static string Key(string cell, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var prefix = Prefix(cell);
        return prefix.Length == 0 ? key : $"{prefix}/{key}";
    }
}
