namespace ControlPlane.Director.Scheduling;

/// <summary>
/// An adaptive failure detector for one worker incarnation: the phi accrual detector of Hayashibara et al. ("The φ
/// accrual failure detector", 2004) over the gaps between the worker's registration beats, as the leader sees them on
/// its own clock. phi(t) = −log10 P(a healthy worker's next beat comes later than t after its last one), with the gaps
/// modelled as normal with the window's mean and standard deviation (the logistic approximation of the normal CDF), so
/// a worker whose beats come irregularly is given proportionally more time, and a regular one less.
/// </summary>
/// <remarks>
/// O(1) per beat (a ring of at most <c>window</c> gaps with running sums) and O(1) per question. Two floors keep it
/// sane: the mean is never below the interval the agent advertises (a start or finish writes the registration sooner,
/// coalesced to about a second, and such extra writes must not make an ordinary beat look late), and the standard
/// deviation is never below a quarter of that mean (a perfectly regular worker must not be suspected for a gap of a
/// few percent). With the default threshold 8 a worker beating every 5 s regularly is suspected about 12 s after its
/// last beat. Not thread-safe: the leader's pass loop owns it.
/// </remarks>
internal sealed class PhiAccrual
{
    private readonly double[] _gaps;
    private readonly double _expected;
    private int _count;
    private int _next;
    private double _sum;
    private double _sumOfSquares;

    /// <summary>A detector expecting a beat every <paramref name="expected"/>, keeping the last <paramref name="window"/> gaps.</summary>
    public PhiAccrual(TimeSpan expected, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expected, TimeSpan.Zero);
        _gaps = new double[window];
        _expected = expected.TotalSeconds;
    }

    /// <summary>When the last beat was seen (the leader's clock); null before the first.</summary>
    public DateTimeOffset? Last { get; private set; }

    /// <summary>Gaps measured so far (at most the window).</summary>
    public int Samples => _count;

    /// <summary>Records a beat seen at <paramref name="at"/>. A beat seen no later than the last one adds no gap.</summary>
    public void Beat(DateTimeOffset at)
    {
        if (Last is { } last && at > last)
        {
            var gap = (at - last).TotalSeconds;
            if (_count == _gaps.Length)
            {
                var old = _gaps[_next];
                _sum -= old;
                _sumOfSquares -= old * old;
            }
            else
            {
                _count++;
            }

            _gaps[_next] = gap;
            _sum += gap;
            _sumOfSquares += gap * gap;
            _next = (_next + 1) % _gaps.Length;
        }

        if (Last is null || at > Last)
        {
            Last = at;
        }
    }

    /// <summary>The suspicion level at <paramref name="now"/>: 0 right after a beat, growing without bound while
    /// none comes; 0 before the first beat.</summary>
    public double Phi(DateTimeOffset now)
    {
        if (Last is not { } last || now <= last)
        {
            return 0;
        }

        var (mean, deviation) = Distribution();
        return PhiOf((now - last).TotalSeconds, mean, deviation);
    }

    /// <summary>How long after the last beat phi reaches <paramref name="threshold"/> (the inverse of
    /// <see cref="Phi"/>): when the worker becomes suspect if nothing comes. A fixed number of steps: O(1).</summary>
    public TimeSpan SuspectAfter(double threshold)
    {
        var (mean, deviation) = Distribution();

        // phi grows monotonically with the gap: bisect on the gap between the mean and a bound past any threshold
        // (60 halvings of the bracket reach double precision).
        double low = 0, high = mean + (deviation * 40);
        for (var i = 0; i < 60; i++)
        {
            var middle = (low + high) / 2;
            if (PhiOf(middle, mean, deviation) < threshold)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return TimeSpan.FromSeconds(high);
    }

    /// <summary>The mean and standard deviation of the gaps, with their floors (see the remarks).</summary>
    private (double Mean, double Deviation) Distribution()
    {
        var mean = _count == 0 ? _expected : _sum / _count;
        var variance = _count < 2 ? 0 : Math.Max(0, (_sumOfSquares / _count) - (mean * mean));
        mean = Math.Max(mean, _expected);
        return (mean, Math.Max(Math.Sqrt(variance), mean / 4));
    }

    /// <summary>−log10 of the probability that a gap exceeds <paramref name="gap"/>, computed in logarithms so a long
    /// silence gives a large finite level rather than infinity.</summary>
    private static double PhiOf(double gap, double mean, double deviation)
    {
        var y = (gap - mean) / deviation;

        // Logistic approximation of the normal CDF: P(later) = e / (1 + e) with ln e = −y (1.5976 + 0.070566 y²).
        var lnE = -y * (1.5976 + (0.070566 * y * y));
        double lnLater;
        if (lnE < 0)
        {
            // e < 1: ln(e / (1 + e)) = ln e − ln(1 + e).
            lnLater = lnE - Math.Log(1 + Math.Exp(lnE));
        }
        else
        {
            // e ≥ 1: ln(e / (1 + e)) = −ln(1 + 1/e).
            lnLater = -Math.Log(1 + Math.Exp(-lnE));
        }

        return Math.Max(0, -lnLater / Math.Log(10));
    }
}
