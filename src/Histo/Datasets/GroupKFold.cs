namespace Histo.Datasets;

/// <summary>
/// Grouped, class-stratified, seeded K-fold splitting. All items of a group (patient, or source image when no
/// patient is known) go to the same fold, so no patient or image is ever on both sides of a validation. Within that
/// constraint the class mix of every fold is kept close to the whole dataset's: groups are shuffled with the seed,
/// ordered by size (largest first, a stable sort so equal sizes keep the seeded order), and each is placed in the
/// fold where it best fills the class deficits (the smallest increase of the squared difference between each fold's
/// share of every class, and of all items, and 1/K). Empty folds are filled first. The same dataset and seed always
/// give the same split.
/// </summary>
public static class GroupKFold
{
    /// <summary>Default number of folds.</summary>
    public const int DefaultFoldCount = 5;

    /// <summary>Default seed.</summary>
    public const int DefaultSeed = 42;

    /// <summary>
    /// Splits by group. Throws <see cref="NotEnoughGroupsException"/> when the dataset has fewer groups than
    /// <paramref name="foldCount"/>.
    /// </summary>
    public static CrossValidationSplit Split(Dataset dataset, int foldCount = DefaultFoldCount, int seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(foldCount, 2);
        var groupOf = dataset.Items.Select(i => i.Group).ToArray();
        int groupCount = dataset.Groups.Count;
        if (groupCount < foldCount)
        {
            string kinds = string.Join(" or ", dataset.Items.Select(i => i.GroupKind).Distinct().Select(KindName));
            string problem = $"{foldCount} folds need at least {foldCount} groups, but the dataset has {groupCount} ({kinds})";
            throw new NotEnoughGroupsException(groupCount, foldCount, problem,
                $"{problem}; use {Math.Max(2, groupCount)} folds or fewer, or add data from more {NotEnoughGroupsException.MoreDataFromGroups(groupCount)}");
        }

        return Assign(dataset, groupOf, foldCount, seed, grouped: true);
    }

    /// <summary>
    /// A naive split that ignores groups (each item on its own, still stratified and seeded). Patches of one patient
    /// land on both sides, which is exactly the leak <see cref="LeakChecker"/> reports; for comparisons and tests only.
    /// </summary>
    public static CrossValidationSplit SplitUngrouped(Dataset dataset, int foldCount = DefaultFoldCount, int seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(foldCount, 2);
        if (dataset.Items.Count < foldCount)
        {
            throw new NotEnoughGroupsException(dataset.Items.Count, foldCount,
                $"{foldCount} folds need at least {foldCount} images, but the dataset has {dataset.Items.Count}");
        }

        var groupOf = dataset.Items.Select(i => i.Path).ToArray();
        return Assign(dataset, groupOf, foldCount, seed, grouped: false);
    }

    private static string KindName(GroupKind kind) => kind switch
    {
        GroupKind.Patient => "patients",
        GroupKind.ManifestGroup => "manifest groups",
        _ => "source images",
    };

    private static CrossValidationSplit Assign(Dataset dataset, string[] groupOf, int foldCount, int seed, bool grouped)
    {
        int classCount = dataset.Classes.Count;
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < groupOf.Length; i++)
        {
            if (!members.TryGetValue(groupOf[i], out var list))
            {
                members[groupOf[i]] = list = [];
            }

            list.Add(i);
        }

        var order = members.Keys.Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(order);
        var groups = order.Select(name => members[name]).OrderByDescending(m => m.Count).ToArray();

        double[] classTotals = dataset.CountsPerClass.Select(c => (double)c).ToArray();
        double itemTotal = dataset.Items.Count;
        double share = 1.0 / foldCount;
        var foldClass = new int[foldCount, classCount];
        var foldSize = new int[foldCount];
        var groupClass = new int[classCount];
        var foldByPath = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            Array.Clear(groupClass);
            foreach (int i in group)
            {
                groupClass[dataset.Items[i].LabelIndex]++;
            }

            int best = -1;
            double bestCost = double.PositiveInfinity;
            bool anyEmpty = foldSize.Contains(0);
            for (int f = 0; f < foldCount; f++)
            {
                if (anyEmpty && foldSize[f] != 0)
                {
                    continue;
                }

                double cost = Delta(foldSize[f], group.Count, itemTotal, share);
                for (int c = 0; c < classCount; c++)
                {
                    if (groupClass[c] != 0 && classTotals[c] > 0)
                    {
                        cost += Delta(foldClass[f, c], groupClass[c], classTotals[c], share);
                    }
                }

                if (cost < bestCost - 1e-12 || (Math.Abs(cost - bestCost) <= 1e-12 && foldSize[f] < foldSize[best]))
                {
                    best = f;
                    bestCost = cost;
                }
            }

            foldSize[best] += group.Count;
            for (int c = 0; c < classCount; c++)
            {
                foldClass[best, c] += groupClass[c];
            }

            foreach (int i in group)
            {
                foldByPath[dataset.Items[i].Path] = best;
            }
        }

        return new CrossValidationSplit(foldCount, seed, grouped, foldByPath);
    }

    /// <summary>Change of (share - target)^2 when <paramref name="added"/> items join a fold holding <paramref name="current"/> of <paramref name="total"/>.</summary>
    private static double Delta(int current, int added, double total, double target)
    {
        double before = current / total - target;
        double after = (current + added) / total - target;
        return after * after - before * before;
    }
}
