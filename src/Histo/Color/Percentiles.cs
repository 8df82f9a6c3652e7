namespace Histo.Color;

/// <summary>Percentiles by selection (no full sort), with numpy's default linear interpolation.</summary>
internal static class Percentiles
{
    /// <summary>
    /// The <paramref name="percent"/> percentile (0..100) of <paramref name="values"/>, which is reordered in place.
    /// Empty input gives NaN.
    /// </summary>
    public static double Of(Span<float> values, double percent)
    {
        int n = values.Length;
        if (n == 0)
        {
            return double.NaN;
        }

        double rank = Math.Clamp(percent, 0, 100) / 100.0 * (n - 1);
        int k = (int)Math.Floor(rank);
        float low = Select(values, k);
        if (k + 1 >= n || rank == k)
        {
            return low;
        }

        // After selecting k, the (k+1)-th smallest is the minimum of the part above k.
        float high = float.PositiveInfinity;
        foreach (float v in values[(k + 1)..])
        {
            high = Math.Min(high, v);
        }

        return low + (rank - k) * (high - low);
    }

    /// <summary>Hoare's quickselect: reorders so that values[k] is the k-th smallest, smaller ones before it.</summary>
    private static float Select(Span<float> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (right > left)
        {
            int mid = left + (right - left) / 2;
            // Median of three as pivot keeps sorted and constant inputs from going quadratic.
            float a = values[left], b = values[mid], c = values[right];
            float pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                right = j;
            }
            else if (k >= i)
            {
                left = i;
            }
            else
            {
                return values[k];
            }
        }

        return values[k];
    }
}
