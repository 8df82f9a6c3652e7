namespace Histo.Bench.Baselines;

/// <summary>Inputs for the model benchmarks: the same values for every engine.</summary>
public static class InferenceInputs
{
    /// <summary>
    /// <paramref name="batch"/> x 3 x <paramref name="sizePixels"/>^2 floats in the network's input range (BGR 0..255
    /// minus the channel means), from a fixed seed.
    /// </summary>
    public static float[] Random(int batch, int sizePixels)
    {
        var random = new Random(7);
        var input = new float[batch * 3 * sizePixels * sizePixels];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() * 255 - 120);
        }

        return input;
    }
}
