namespace ControlPlane.Bench.ControlPlane;

/// <summary>Nearest-rank percentiles of a sample, in milliseconds.</summary>
internal static class Percentiles
{
    public static (double P50, double P90, double P99, double Max) Of(IReadOnlyList<double> sample)
    {
        if (sample.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = sample.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return (At(0.50), At(0.90), At(0.99), sorted[^1]);
    }
}
