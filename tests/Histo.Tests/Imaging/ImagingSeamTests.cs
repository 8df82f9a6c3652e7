using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Histo.Imaging;

namespace Histo.Tests.Imaging;

/// <summary>
/// OpenCV has one seam in the core, <c>src/Histo/Imaging</c>: pixel buffers become Mats and Mats become pixel buffers
/// only there (<c>MatRows</c>), and encoded files are decoded and encoded only there (<c>ImageIO</c>). Stages keep the
/// OpenCV algorithms they use, on Mats from the seam, but no member another assembly can see takes or returns one.
/// </summary>
public class ImagingSeamTests
{
    private static readonly Assembly Core = typeof(RgbaImage).Assembly;

    [Fact]
    public void No_member_outside_Imaging_that_another_assembly_can_see_names_an_OpenCvSharp_type()
    {
        // "Can see": public, protected or internal (the tests and benchmarks see internals); private steps of a stage
        // may pass Mats between them.
        var offenders = Signatures(Core, type => !InImaging(type) && IsVisibleToFriends(type), IsVisibleToFriends)
            .Where(s => MentionsOpenCv(s.Type))
            .Select(s => s.Where)
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, "OpenCvSharp types outside Histo.Imaging:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_core_public_api_names_no_OpenCvSharp_type_so_other_assemblies_need_no_OpenCV()
    {
        var offenders = Signatures(Core, type => type.IsVisible, IsPublicApi)
            .Where(s => MentionsOpenCv(s.Type))
            .Select(s => s.Where)
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, "OpenCvSharp types in the public API:\n" + string.Join("\n", offenders));

        foreach (var other in new[] { "Histo.Cli", "Histo.Viewer", "Histo.Learning" })
        {
            var references = Assembly.Load(other).GetReferencedAssemblies().Select(a => a.Name);
            Assert.DoesNotContain(references, name => name != null && name.StartsWith("OpenCvSharp", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_reflection_check_sees_a_Mat_in_a_signature()
    {
        var offenders = Signatures(typeof(Bypass).Assembly, type => type == typeof(Bypass), IsVisibleToFriends)
            .Where(s => MentionsOpenCv(s.Type))
            .Select(s => s.Where)
            .ToHashSet();
        Assert.Superset(new HashSet<string> { "Bypass.Wrap returns", "Bypass.Count parameter", "Bypass.Rows parameter", "Bypass.Last" }, offenders);
        Assert.DoesNotContain(offenders, where => where.StartsWith("Bypass.Hidden", StringComparison.Ordinal) || where.StartsWith("Bypass.Uses", StringComparison.Ordinal));
    }

    [Fact]
    public void Pixel_buffer_conversions_and_codecs_are_called_only_in_Imaging()
    {
        string src = Path.Combine(TestPaths.RepoRoot, "src");
        string imaging = Path.Combine(src, "Histo", "Imaging") + Path.DirectorySeparatorChar;
        var offenders = new List<string>();
        int scanned = 0;
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(TestPaths.RepoRoot, file);
            if (file.StartsWith(imaging, StringComparison.Ordinal) || IsBuildOutput(relative))
            {
                continue;
            }

            scanned++;
            offenders.AddRange(ConversionCalls(File.ReadAllText(file)).Select(call => $"{relative}: {call}"));
        }

        Assert.True(scanned > 100, $"only {scanned} source files found under {src}");
        Assert.True(offenders.Count == 0, "OpenCV conversions outside src/Histo/Imaging (use MatRows or ImageIO):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_seam_is_where_the_conversions_are()
    {
        string imaging = Path.Combine(TestPaths.RepoRoot, "src", "Histo", "Imaging");
        var calls = ConversionCalls(File.ReadAllText(Path.Combine(imaging, "MatRows.cs")))
            .Concat(ConversionCalls(File.ReadAllText(Path.Combine(imaging, "ImageIO.cs"))))
            .ToList();
        Assert.Contains(calls, c => c.StartsWith("Mat.FromPixelData", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.StartsWith("Cv2.ImDecode", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.StartsWith("Cv2.ImEncode", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.StartsWith("ColorConversionCodes.RGBA2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("using var m = Mat.FromPixelData(h, w, MatType.CV_8UC4, image.Pixels);")]
    [InlineData("var m = Mat.FromArray(values);")]
    [InlineData("using var m = new Mat(h, w, MatType.CV_8UC1, pixels);")]
    [InlineData("using var m = new Mat(image.Height, image.Width, MatType.CV_8UC4, handle.AddrOfPinnedObject(), 0);")]
    [InlineData("var grey = Cv2.ImDecode(bytes, ImreadModes.Grayscale);")]
    [InlineData("Cv2.ImEncode(\".png\", mat, out byte[] png);")]
    [InlineData("using var m = Cv2.ImRead(path);")]
    [InlineData("Cv2.ImWrite(path, mat);")]
    [InlineData("floats.GetArray(out float[] raw);")]
    [InlineData("mat.SetArray(values);")]
    [InlineData("var indexer = mat.GetGenericIndexer<Vec3b>();")]
    [InlineData("var indexer = mat.GetUnsafeGenericIndexer<byte>();")]
    [InlineData("Marshal.Copy(dst.Data, result.Pixels, 0, result.Pixels.Length);")]
    [InlineData("byte* p = (byte*)mat.DataPointer;")]
    [InlineData("var row = new Span<byte>((void*)mat.Ptr(y), width);")]
    [InlineData("Cv2.CvtColor(rgba, rgb, ColorConversionCodes.RGBA2RGB);")]
    [InlineData("Cv2.CvtColor(bgr, rgba, ColorConversionCodes.BGR2RGBA);")]
    public void The_source_scan_finds_a_conversion_that_bypasses_the_seam(string line)
    {
        Assert.NotEmpty(ConversionCalls("using OpenCvSharp;\n" + line));
    }

    [Theory]
    [InlineData("using var mask = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));")]
    [InlineData("using var inner = new Mat(padded, new Rect(1, 1, mask.Cols, mask.Rows));")]
    [InlineData("using var rgba = MatRows.WrapRgba(image); // not Mat.FromPixelData")]
    [InlineData("Cv2.CvtColor(rgb, hsv, ColorConversionCodes.RGB2HSV_FULL);")]
    [InlineData("if (MemoryMarshal.TryGetArray(encoded, out var segment) && json.GetArrayLength() > 0) { }")]
    public void The_source_scan_lets_algorithms_on_seam_Mats_through(string line)
    {
        Assert.Empty(ConversionCalls("using OpenCvSharp;\n" + line));
    }

    /// <summary>Calls that move pixels between a Histo buffer (or a file's bytes) and an OpenCV Mat.</summary>
    private static readonly Regex Conversion = new(
        @"\bMat(<\w+>)?\.(FromPixelData|FromArray)\b|\bCv2\.(ImDecode|ImEncode|ImRead\w*|ImWrite\w*)\b|\.(GetArray|SetArray|Get(Unsafe)?GenericIndexer)\b"
        + @"|\bColorConversionCodes\.(RGBA2\w+|\w+2RGBA)\b",
        RegexOptions.Compiled);

    /// <summary>Pointer access to a Mat's pixels; only looked for in files that use OpenCvSharp (other types have a Data too).</summary>
    private static readonly Regex PointerWalk = new(@"\.(Data|DataPointer|DataStart|DataEnd|Ptr)\b", RegexOptions.Compiled);

    private static readonly Regex NewMat = new(@"\bnew\s+Mat(<\w+>)?\s*\(", RegexOptions.Compiled);

    private static List<string> ConversionCalls(string source)
    {
        string code = Regex.Replace(source, @"//[^\n]*", "");
        var calls = Conversion.Matches(code).Select(m => m.Value).ToList();
        if (Regex.IsMatch(code, @"^\s*using\s+OpenCvSharp\b", RegexOptions.Multiline) || code.Contains("OpenCvSharp.", StringComparison.Ordinal))
        {
            calls.AddRange(PointerWalk.Matches(code).Select(m => "Mat" + m.Value));
        }

        // new Mat(rows, cols, type, data[, step]) wraps foreign memory; new Mat(rows, cols, type, Scalar) only allocates.
        foreach (Match m in NewMat.Matches(code))
        {
            var arguments = Arguments(code, m.Index + m.Length);
            if (arguments.Count >= 4 && !arguments[3].StartsWith("Scalar", StringComparison.Ordinal) && !arguments[3].StartsWith("new Scalar", StringComparison.Ordinal))
            {
                calls.Add("new Mat(" + string.Join(", ", arguments) + ")");
            }
        }

        return calls;
    }

    /// <summary>The top-level, comma-separated arguments of a call whose argument list starts at <paramref name="start"/>.</summary>
    private static List<string> Arguments(string code, int start)
    {
        var arguments = new List<string>();
        int depth = 0, from = start;
        for (int i = start; i < code.Length; i++)
        {
            char c = code[i];
            if (c is '(' or '[' or '{')
            {
                depth++;
            }
            else if (c is ')' or ']' or '}')
            {
                if (depth == 0)
                {
                    arguments.Add(code[from..i].Trim());
                    break;
                }

                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                arguments.Add(code[from..i].Trim());
                from = i + 1;
            }
        }

        return arguments.Where(a => a.Length > 0).ToList();
    }

    private static bool IsBuildOutput(string relative) =>
        relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules");

    private static bool InImaging(Type type) =>
        type.Namespace is { } ns && (ns == "Histo.Imaging" || ns.StartsWith("Histo.Imaging.", StringComparison.Ordinal));

    private static bool IsCompilerGenerated(MemberInfo member) =>
        member.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) || member.Name.Contains('<', StringComparison.Ordinal);

    /// <summary>A type whose declaring types are none of them private: another assembly (a friend, for internals) can name it.</summary>
    private static bool IsVisibleToFriends(Type type) =>
        !type.IsNestedPrivate && !type.IsNestedFamANDAssem && (type.DeclaringType is null || IsVisibleToFriends(type.DeclaringType));

    private static bool IsVisibleToFriends(MemberInfo member) => member switch
    {
        FieldInfo f => !f.IsPrivate,
        MethodBase m => !m.IsPrivate,
        _ => true,
    };

    private static bool IsPublicApi(MemberInfo member) => member switch
    {
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        _ => true,
    };

    /// <summary>Every type named by the signatures of the chosen types' chosen members, with where it is named.</summary>
    private static IEnumerable<(Type Type, string Where)> Signatures(Assembly assembly, Func<Type, bool> typeFilter, Func<MemberInfo, bool> memberFilter)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes().Where(t => !IsCompilerGenerated(t) && typeFilter(t)))
        {
            string name = type.FullName ?? type.Name;
            if (type.BaseType is { } baseType)
            {
                yield return (baseType, name + " base type");
            }

            foreach (var contract in type.GetInterfaces())
            {
                yield return (contract, name + " interface");
            }

            foreach (var member in type.GetMembers(all).Where(m => !IsCompilerGenerated(m)))
            {
                string where = type.Name + "." + member.Name;
                switch (member)
                {
                    case FieldInfo field when memberFilter(field):
                        yield return (field.FieldType, where);
                        break;
                    case PropertyInfo property when (property.GetMethod ?? property.SetMethod) is { } accessor && memberFilter(accessor):
                        yield return (property.PropertyType, where);
                        foreach (var index in property.GetIndexParameters())
                        {
                            yield return (index.ParameterType, where + " index");
                        }

                        break;
                    case EventInfo e when e.AddMethod is { } add && memberFilter(add):
                        yield return (e.EventHandlerType!, where);
                        break;
                    case MethodBase method when memberFilter(method): // constructors, operators and accessors included
                        if (method is MethodInfo returning)
                        {
                            yield return (returning.ReturnType, where + " returns");
                        }

                        foreach (var parameter in method.GetParameters())
                        {
                            yield return (parameter.ParameterType, where + " parameter");
                        }

                        break;
                }
            }
        }
    }

    private static bool MentionsOpenCv(Type type)
    {
        if (type.HasElementType)
        {
            return MentionsOpenCv(type.GetElementType()!);
        }

        if (type.Namespace is { } ns && (ns == "OpenCvSharp" || ns.StartsWith("OpenCvSharp.", StringComparison.Ordinal)))
        {
            return true;
        }

        return type.IsGenericType && !type.IsGenericTypeDefinition && type.GetGenericArguments().Any(MentionsOpenCv);
    }

    /// <summary>What a bypass of the seam looks like, for the reflection check to find.</summary>
    internal static class Bypass
    {
        public static OpenCvSharp.Mat Wrap(RgbaImage image) => new(image.Height, image.Width, OpenCvSharp.MatType.CV_8UC4);

        internal static int Count(OpenCvSharp.Mat[] mats) => mats.Length;

        internal static int Rows(IReadOnlyList<OpenCvSharp.Mat> mats) => mats.Sum(m => m.Rows);

        internal static OpenCvSharp.Mat? Last { get; set; }

        public static int Uses()
        {
            using var mat = Hidden(1);
            return mat.Rows;
        }

        private static OpenCvSharp.Mat Hidden(int side) => new(side, side, OpenCvSharp.MatType.CV_8UC1);
    }
}
