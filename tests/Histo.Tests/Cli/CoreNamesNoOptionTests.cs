using System.Text;
using System.Text.RegularExpressions;

namespace Histo.Tests.Cli;

/// <summary>
/// The libraries (<c>src/Histo</c>, <c>src/Histo.Learning</c>) do not know the command line's flags: no string literal
/// of theirs spells one (comments may). A remedy that needs a flag is worded by the CLI from
/// <see cref="HistoException.Parameter"/> (<c>Histo.Cli/OptionRemedies</c>).
/// </summary>
public sealed partial class CoreNamesNoOptionTests
{
    /// <summary>Command lines of other tools that a message may quote (their flags are not histo's).</summary>
    private static readonly string[] OtherToolsCommandLines = ["vips tiffsave --tile --pyramid"];

    [GeneratedRegex("--[a-z][a-z-]+")]
    private static partial Regex Flag();

    [Theory]
    [InlineData("src/Histo")]
    [InlineData("src/Histo.Learning")]
    [InlineData("src/Histo.Viewer")]
    public void No_string_literal_spells_a_flag(string project)
    {
        string root = Path.Combine(TestPaths.RepoRoot, project);
        var found = new List<string>();
        int literals = 0;
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            foreach (var (line, text) in StringLiterals(File.ReadAllText(file)))
            {
                literals++;
                string checkedText = OtherToolsCommandLines.Aggregate(text, (t, other) => t.Replace(other, "", StringComparison.Ordinal));
                found.AddRange(Flag().Matches(checkedText).Select(m => $"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{line}: {m.Value} in \"{text}\""));
            }
        }

        Assert.True(literals > 100, $"only {literals} string literals read under {project}");
        Assert.True(found.Count == 0, "the library names command-line flags (say which input to change with HistoParameter; the CLI words the flag):\n" + string.Join('\n', found));
    }

    [Fact]
    public void The_scan_reads_string_literals_and_skips_comments()
    {
        const string source = """"
            // a comment naming --folds
            /// <summary>Doc naming <c>--roi</c>.</summary>
            /* a block naming --shard */
            char quote = '"', brace = '{', escaped = '\'';
            string a = $"use --one-flag {(x ? "--two" : @"b ""quoted"" c")} or {y:0.###}";
            string b = @"--three // not a comment";
            string c = """
                --four
                """;
            string d = "\"--five\""; // --six
            """";
        var literals = StringLiterals(source);
        var flags = literals.SelectMany(l => Flag().Matches(l.Text).Select(m => (l.Line, m.Value))).ToList();
        Assert.Equal([(4, "--two"), (4, "--one-flag"), (5, "--three"), (6, "--four"), (9, "--five")], flags);
        Assert.Contains(literals, l => l.Text == "b \"quoted\" c"); // a verbatim string's "" is one quote
        Assert.Contains(literals, l => l.Text == "use --one-flag {} or {}"); // holes are code
    }

    /// <summary>The string literals of C# source with their 0-based line, interpolation holes read as code.</summary>
    private static List<(int Line, string Text)> StringLiterals(string source)
    {
        var found = new List<(int Line, string Text)>();
        int i = 0;
        Code(source, ref i, found, inHole: false);
        return found;
    }

    /// <summary>Reads code from <paramref name="i"/> to the end, or in a hole to the <c>}</c> that closes it.</summary>
    private static void Code(string s, ref int i, List<(int Line, string Text)> found, bool inHole)
    {
        int depth = 0;
        while (i < s.Length)
        {
            char c = s[i];
            char next = i + 1 < s.Length ? s[i + 1] : '\0';
            if (c == '/' && next == '/')
            {
                int end = s.IndexOf('\n', i);
                i = end < 0 ? s.Length : end;
            }
            else if (c == '/' && next == '*')
            {
                int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? s.Length : end + 2;
            }
            else if (c == '\'')
            {
                i += next == '\\' ? 3 : 2; // past the opening quote and the (first escaped) character
                while (i < s.Length && s[i] != '\'')
                {
                    i++;
                }

                i++;
            }
            else if (c == '"' || ((c == '$' || c == '@') && StartsString(s, i)))
            {
                StringLiteral(s, ref i, found);
            }
            else
            {
                if (inHole && c == '{')
                {
                    depth++;
                }
                else if (inHole && c == '}' && depth-- == 0)
                {
                    i++;
                    return;
                }

                i++;
            }
        }
    }

    private static bool StartsString(string s, int i)
    {
        while (i < s.Length && s[i] is '$' or '@')
        {
            i++;
        }

        return i < s.Length && s[i] == '"';
    }

    private static void StringLiteral(string s, ref int i, List<(int Line, string Text)> found)
    {
        int line = s.AsSpan(0, i).Count('\n');
        bool interpolated = false, verbatim = false;
        while (s[i] != '"')
        {
            interpolated |= s[i] == '$';
            verbatim |= s[i] == '@';
            i++;
        }

        int quotes = 0;
        while (i + quotes < s.Length && s[i + quotes] == '"')
        {
            quotes++;
        }

        var text = new StringBuilder();
        if (quotes >= 3)
        {
            string delimiter = new('"', quotes);
            int end = s.IndexOf(delimiter, i + quotes, StringComparison.Ordinal);
            end = end < 0 ? s.Length : end;
            found.Add((line, s[(i + quotes)..end]));
            i = Math.Min(s.Length, end + quotes);
            return;
        }

        i++;
        while (i < s.Length)
        {
            char c = s[i];
            char next = i + 1 < s.Length ? s[i + 1] : '\0';
            if (c == '"' && verbatim && next == '"')
            {
                text.Append('"');
                i += 2;
            }
            else if (c == '"' || (c == '\n' && !verbatim))
            {
                i++;
                break;
            }
            else if (c == '\\' && !verbatim)
            {
                text.Append(next);
                i += 2;
            }
            else if (interpolated && (c is '{' or '}') && next == c)
            {
                text.Append(c);
                i += 2;
            }
            else if (interpolated && c == '{')
            {
                i++;
                Code(s, ref i, found, inHole: true);
                text.Append("{}");
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        found.Add((line, text.ToString()));
    }
}
