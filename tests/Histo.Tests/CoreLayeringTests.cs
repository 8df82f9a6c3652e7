using System.Text;
using System.Text.RegularExpressions;

namespace Histo.Tests;

/// <summary>
/// The core's stages depend one way, read from the sources: the pipeline (<c>src/Histo/Inference</c>) names nothing of
/// the outputs or the cohort workflows, the outputs nothing of the cohort workflows (which use both), and every core
/// file's namespace is its folder's. A back edge (issue 16) fails here.
/// </summary>
public sealed partial class CoreLayeringTests
{
    private static readonly string CoreSource = Path.Combine(TestPaths.RepoRoot, "src", "Histo");

    public static TheoryData<string, string[]> DownstreamOf => new()
    {
        { "Inference", ["Histo.Outputs", "Histo.Cohorts"] },
        { "Outputs", ["Histo.Cohorts"] },
    };

    [Theory]
    [MemberData(nameof(DownstreamOf))]
    public void A_stage_names_nothing_downstream_of_it(string folder, string[] downstream)
    {
        var files = SourceFiles(folder);
        Assert.NotEmpty(files);
        var backEdges = files
            .SelectMany(f => NamespacesNamed(File.ReadAllText(f)).Where(n => downstream.Any(d => n == d || n.StartsWith(d + ".", StringComparison.Ordinal)))
                .Select(n => $"{Path.GetRelativePath(CoreSource, f)} names {n}"))
            .Distinct()
            .ToList();
        Assert.Empty(backEdges);
    }

    [Theory]
    [InlineData("Cohorts", "Histo.Inference")]
    [InlineData("Cohorts", "Histo.Outputs")]
    [InlineData("Outputs", "Histo.Inference")]
    public void The_scan_sees_the_edges_that_are_meant_to_exist(string folder, string upstream) =>
        Assert.Contains(SourceFiles(folder), f => NamespacesNamed(File.ReadAllText(f)).Contains(upstream));

    [Fact]
    public void Using_directives_and_qualified_names_count_but_comments_and_strings_do_not()
    {
        const string source = """"
            using System.Text;
            using static Histo.Maps.MapRendering;
            using Geo = Histo.Annotations.AnnotationReader;
            // using Histo.Outputs;
            /* Histo.Cohorts.CohortRunner */
            /// <see cref="Histo.Outputs.SlideOutputs"/>
            namespace Histo.Inference;
            class C
            {
                string a = "Histo.Outputs.SlideOutputs", b = @"Histo.Cohorts ""quoted"" ", c = """Histo.Outputs""";
                char q = '"';
                object d = global::Histo.Scoring.MapStatistics.Empty;
                void M() => Cohorts.CohortTable.Read("x");
            }
            """";
        Assert.Equal(
            new[] { "Histo.Annotations", "Histo.Annotations.AnnotationReader", "Histo.Cohorts", "Histo.Maps", "Histo.Maps.MapRendering", "Histo.Scoring", "System.Text" },
            NamespacesNamed(source).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Every_core_file_declares_the_namespace_of_its_folder()
    {
        var files = Directory.EnumerateFiles(CoreSource, "*.cs", SearchOption.AllDirectories).Where(f => !InBuildOutput(f)).ToList();
        Assert.NotEmpty(files);
        var wrong = files
            .Select(f => (File: f, Expected: string.Join('.', ["Histo", .. Path.GetRelativePath(CoreSource, Path.GetDirectoryName(f)!).Split(Path.DirectorySeparatorChar).Where(p => p != ".")]),
                Declared: NamespaceDeclaration().Match(Code(File.ReadAllText(f))).Groups[1].Value))
            .Where(x => x.Declared != x.Expected)
            .Select(x => $"{Path.GetRelativePath(CoreSource, x.File)}: namespace '{x.Declared}', folder says {x.Expected}")
            .ToList();
        Assert.Empty(wrong);
    }

    private static List<string> SourceFiles(string folder) =>
        [.. Directory.EnumerateFiles(Path.Combine(CoreSource, folder), "*.cs", SearchOption.AllDirectories).Where(f => !InBuildOutput(f)).Order(StringComparer.Ordinal)];

    private static bool InBuildOutput(string path) =>
        Path.GetRelativePath(CoreSource, path).Split(Path.DirectorySeparatorChar) is ["obj" or "bin", ..];

    /// <summary>
    /// Every namespace (or type) a file's code names: the targets of its using directives (plain, static, aliased,
    /// global), <c>Histo.X</c> written out (with or without <c>global::</c>), and <c>X.</c> where X is a folder of the
    /// core, which inside the core's namespaces is <c>Histo.X</c>. Comments, literals and the file's own namespace
    /// declaration are not counted.
    /// </summary>
    private static HashSet<string> NamespacesNamed(string source)
    {
        string code = NamespaceDeclaration().Replace(Code(source), "");
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in UsingDirective().Matches(code))
        {
            named.Add(m.Groups[1].Value);
        }

        foreach (Match m in QualifiedCoreName().Matches(code))
        {
            named.Add("Histo." + m.Groups[1].Value);
        }

        var folders = Directory.EnumerateDirectories(CoreSource).Select(d => Path.GetFileName(d)).ToHashSet(StringComparer.Ordinal);
        foreach (Match m in RelativeName().Matches(code))
        {
            if (folders.Contains(m.Groups[1].Value))
            {
                named.Add("Histo." + m.Groups[1].Value);
            }
        }

        return named;
    }

    /// <summary>The source with comments, string and character literals blanked out (line breaks kept).</summary>
    private static string Code(string source)
    {
        var code = new StringBuilder(source.Length);
        int i = 0;
        while (i < source.Length)
        {
            char c = source[i];
            char next = i + 1 < source.Length ? source[i + 1] : '\0';
            int end;
            if (c == '/' && next == '/')
            {
                end = source.IndexOf('\n', i);
                end = end < 0 ? source.Length : end;
            }
            else if (c == '/' && next == '*')
            {
                end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 2;
            }
            else if (c == '\'')
            {
                end = i + 1;
                while (end < source.Length && source[end] != '\'' && source[end] != '\n')
                {
                    end += source[end] == '\\' ? 2 : 1;
                }

                end = Math.Min(end + 1, source.Length);
            }
            else if (c == '"')
            {
                end = StringEnd(source, i);
            }
            else
            {
                code.Append(c);
                i++;
                continue;
            }

            code.Append(Regex.Replace(source[i..end], "[^\n]", " "));
            i = end;
        }

        return code.ToString();
    }

    /// <summary>Where the string literal whose first quote is at <paramref name="start"/> ends (raw, verbatim or regular).</summary>
    private static int StringEnd(string source, int start)
    {
        int quotes = 0;
        while (start + quotes < source.Length && source[start + quotes] == '"')
        {
            quotes++;
        }

        if (quotes >= 3)
        {
            int close = source.IndexOf(new string('"', quotes), start + quotes, StringComparison.Ordinal);
            return close < 0 ? source.Length : close + quotes;
        }

        if (quotes == 2)
        {
            return start + 2;
        }

        bool verbatim = (start > 0 && source[start - 1] == '@') || (start > 1 && source[start - 2] == '@');
        int i = start + 1;
        while (i < source.Length)
        {
            if (source[i] == '"')
            {
                if (verbatim && i + 1 < source.Length && source[i + 1] == '"')
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            if (!verbatim && (source[i] == '\\'))
            {
                i += 2;
                continue;
            }

            if (!verbatim && source[i] == '\n')
            {
                return i;
            }

            i++;
        }

        return source.Length;
    }

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.])(?:global::)?Histo\.(\w+)")]
    private static partial Regex QualifiedCoreName();

    [GeneratedRegex(@"(?<![\w.:])(\w+)\s*\.")]
    private static partial Regex RelativeName();

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();
}
