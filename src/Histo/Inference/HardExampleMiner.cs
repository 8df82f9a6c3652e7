using System.Globalization;
using Histo.Annotations;
using Histo.Bach;
using Histo.Imaging;
using Histo.IO;
using Histo.Maps;
using Histo.Models;
using Histo.Patches;
using Histo.Slides;

namespace Histo.Inference;

/// <summary>Settings of <see cref="HardExampleMiner"/> (defaults: the seed's).</summary>
public sealed record MiningOptions
{
    /// <summary>Patches to sample, balanced across truth classes (the seed took 5,900 over its training slides).</summary>
    public int SampleCount { get; init; } = 5900;

    /// <summary>Minimum tissue fraction of a candidate patch (0.70).</summary>
    public double MinTissueFraction { get; init; } = 0.70;

    /// <summary>Share of the candidates kept, hardest first (0.40: the top 40th percentile of difficulty).</summary>
    public double HardestFraction { get; init; } = 0.40;

    /// <summary>Seed of the balanced sampling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Patches per model call.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Threads reading patches.</summary>
    public int ReaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Resolves the annotation labels (BACH substrings by default).</summary>
    public LabelMap? LabelMap { get; init; }
}

/// <summary>A candidate patch of hard-example mining.</summary>
/// <param name="Level0X">Left edge, level-0 pixels.</param>
/// <param name="Level0Y">Top edge, level-0 pixels.</param>
/// <param name="Level0Size">Side, level-0 pixels.</param>
/// <param name="TruthCode">BACH code from the truth: rounded mean of the codes under the patch.</param>
/// <param name="PredictedClass">Index of the most probable class.</param>
/// <param name="Probability">Its probability.</param>
/// <param name="Difficulty">|truth − code of the prediction| × probability of the prediction.</param>
public sealed record MinedPatch(long Level0X, long Level0Y, long Level0Size, int TruthCode, int PredictedClass, float Probability, double Difficulty);

/// <summary>The outcome of mining one slide.</summary>
/// <param name="Candidates">Patches with enough tissue, in grid order.</param>
/// <param name="Hardest">The hardest share of them, hardest first.</param>
/// <param name="Selected">The class-balanced sample written.</param>
/// <param name="ClassNames">Folder name of each BACH code (the card's class with that code).</param>
public sealed record MiningResult(IReadOnlyList<MinedPatch> Candidates, IReadOnlyList<MinedPatch> Hardest, IReadOnlyList<MinedPatch> Selected,
    IReadOnlyList<string> ClassNames);

/// <summary>
/// The seed's hard-example mining on an annotated slide: classify every patch with at least 70 % tissue, score its
/// difficulty |gt − pred| × p(pred) (codes are BACH codes), keep the hardest 40 %, draw a sample balanced across the
/// truth classes (round robin over the classes, each shuffled with a fixed seed), and write it as a class-folder
/// dataset <c>DIR/&lt;class&gt;/&lt;slide&gt;_x&lt;X&gt;_y&lt;Y&gt;.tif</c> at the card's patch size and µm/px (recorded in
/// the TIFF resolution tags; <c>.png</c> when the card has no µm/px), which
/// <c>DatasetLoader</c> (and so <c>histo train</c>) reads. The directory is published whole.
/// </summary>
public sealed class HardExampleMiner
{
    private readonly IPatchClassifier _classifier;

    /// <summary>Creates the miner; the model's classes must map to BACH codes.</summary>
    public HardExampleMiner(IPatchClassifier classifier, MiningOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        if (!classifier.Card.HasBachCodes)
        {
            throw new InvalidParameterException("hard-example mining needs a model whose classes map to BACH codes (bach_codes in the card)");
        }

        _classifier = classifier;
        Options = options ?? new MiningOptions();
        if (Options.SampleCount < 1 || !(Options.MinTissueFraction is > 0 and <= 1) || !(Options.HardestFraction is > 0 and <= 1))
        {
            throw new InvalidParameterException("mining needs a sample count of at least 1, and a tissue and a hardest fraction in (0, 1]");
        }
    }

    /// <summary>The settings in use.</summary>
    public MiningOptions Options { get; }

    /// <summary>Mines <paramref name="slidePath"/> against <paramref name="truthPath"/> (annotation file or label mask) into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="HistoException">Unreadable inputs, an output directory that exists and is not empty.</exception>
    public MiningResult Mine(string slidePath, string truthPath, string outputDirectory, IProgress<SlideInferenceProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outputDirectory);
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
        {
            throw new HistoException($"{outputDirectory} exists and is not empty; give a new folder for the mined dataset");
        }

        var card = _classifier.Card;
        var codes = card.BachCodes!;
        using var slide = Slide.Open(slidePath);
        var inference = new SlideInference(_classifier, new SlideInferenceOptions
        {
            // The model's own grid (its crop stride, else the patch size), not the finer default of the maps: mined
            // patches overlap no more than the crops the model was trained on.
            StridePixels = SlideInference.StridePixelsFor(card, null) ?? card.PatchSizePixels,
            MinTissueFraction = Options.MinTissueFraction,
            Rule = ClassMapRule.Argmax,
            BatchSize = Options.BatchSize,
            ReaderThreads = Options.ReaderThreads,
        });
        var result = inference.Run(slide, progress, cancellationToken);

        // Truth at 8 mask pixels per patch side (fine enough for the rounded mean, small whatever the slide).
        long patchSide = result.Patches.Count > 0 ? result.Patches[0].Level0Size : Math.Max(1, (long)result.Geometry.Level0PerPixelX);
        double truthPixel = Math.Max(1, patchSide / 8.0);
        var truthGeometry = new MapGeometry(0, 0, slide.Width, slide.Height, (int)Math.Max(1, Math.Round(slide.Width / truthPixel)),
            (int)Math.Max(1, Math.Round(slide.Height / truthPixel)), BachClasses.Names);
        var truth = GroundTruth.Load(truthPath, truthGeometry, Options.LabelMap, cancellationToken);

        var candidates = new List<MinedPatch>(result.Patches.Count);
        foreach (var p in result.Patches)
        {
            int gt = PatchLabels.Label(truth, p.Level0X, p.Level0Y, p.Level0Size)?.Label ?? 0;
            int predicted = 0;
            for (int k = 1; k < p.Probabilities.Length; k++)
            {
                if (p.Probabilities[k] > p.Probabilities[predicted])
                {
                    predicted = k;
                }
            }

            float probability = p.Probabilities[predicted];
            candidates.Add(new MinedPatch(p.Level0X, p.Level0Y, p.Level0Size, gt, predicted, probability, Math.Abs(gt - codes[predicted]) * (double)probability));
        }

        int keep = (int)Math.Ceiling(candidates.Count * Options.HardestFraction);
        var hardest = candidates.Select((c, i) => (c, i)).OrderByDescending(x => x.c.Difficulty).ThenBy(x => x.i).Take(keep).Select(x => x.c).ToList();
        var selected = BalancedSample(hardest, Options.SampleCount, Options.Seed);

        var names = Enumerable.Range(0, 4).Select(code =>
        {
            int k = codes.IndexOf(code);
            return k >= 0 ? card.Classes[k] : BachClasses.Names[code];
        }).ToList();
        string slideName = SlideFormats.SlideName(slidePath);
        AtomicFile.WriteDirectory(outputDirectory, staging =>
        {
            foreach (var group in selected.GroupBy(s => s.TruthCode))
            {
                Directory.CreateDirectory(Path.Combine(staging, names[group.Key]));
            }

            ParallelWork.For(selected.Count, Options.ReaderThreads, cancellationToken, i =>
            {
                var s = selected[i];
                var image = PatchReader.Read(slide, new PatchPosition(0, 0, s.Level0X, s.Level0Y, s.Level0Size, null), card.PatchSizePixels);
                string file = Path.Combine(staging, names[s.TruthCode], string.Create(CultureInfo.InvariantCulture, $"{slideName}_x{s.Level0X}_y{s.Level0Y}"));
                if (card.Mpp is { } mpp)
                {
                    ImageIO.SaveTiff(file + ".tif", image, mpp); // training reads the scale back from the tags
                }
                else
                {
                    ImageIO.Save(file + ".png", image);
                }
            });
        });

        return new MiningResult(candidates, hardest, selected, names);
    }

    /// <summary>Up to <paramref name="count"/> patches, taking one per truth class in turn (classes in code order, each shuffled).</summary>
    internal static List<MinedPatch> BalancedSample(IReadOnlyList<MinedPatch> patches, int count, int seed)
    {
        var random = new Random(seed);
        var queues = patches.GroupBy(p => p.TruthCode).OrderBy(g => g.Key)
            .Select(g =>
            {
                var items = g.ToArray();
                random.Shuffle(items);
                return new Queue<MinedPatch>(items);
            })
            .ToList();
        var sample = new List<MinedPatch>(Math.Min(count, patches.Count));
        while (sample.Count < count && queues.Any(q => q.Count > 0))
        {
            foreach (var queue in queues)
            {
                if (queue.Count > 0 && sample.Count < count)
                {
                    sample.Add(queue.Dequeue());
                }
            }
        }

        return sample;
    }
}
