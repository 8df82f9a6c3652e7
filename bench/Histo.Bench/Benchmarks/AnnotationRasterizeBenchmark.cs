using System.Diagnostics;
using System.Globalization;
using Histo.Annotations;

namespace Histo.Bench.Benchmarks;

/// <summary>
/// Reading BACH A08's ImageScope XML (93 regions, 30,668 vertices) and painting it at 1/16 (4,125 x 2,875 px,
/// nested regions last), against the same job in Python: ElementTree + Pillow ImageDraw.polygon, regions sorted by
/// area, timed inside the interpreter (start-up excluded).
/// </summary>
public sealed class AnnotationRasterizeBenchmark : IBenchmark
{
    private const int SlideWidth = 66000, SlideHeight = 46000, Downsample = 16;

    /// <inheritdoc />
    public string Name => "annotation-rasterize-a08";

    /// <inheritdoc />
    public IEnumerable<BenchResult> Run(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string xml = Path.Combine(context.SharedData, "annotations", "bach", "A08.xml");
        int repetitions = context.Quick ? 5 : 15;
        double histo = BenchContext.MedianSeconds(() =>
        {
            var set = AnnotationReader.Read(xml);
            AnnotationRasterizer.RasterizeSlide(set.Annotations, SlideWidth, SlideHeight, Downsample);
        }, warmup: 10, repetitions: repetitions);
        double python = RunPython(xml, repetitions);
        yield return new BenchResult(Name, 1 / histo, 1 / python, "files/s", "python ElementTree+Pillow",
            Notes: string.Create(CultureInfo.InvariantCulture, $"histo {histo * 1000:0.0} ms, python {python * 1000:0.0} ms per file"));
    }

    private static double RunPython(string xml, int repetitions)
    {
        const string script = """
            import sys, time, statistics
            import xml.etree.ElementTree as ET
            from PIL import Image, ImageDraw
            path, reps, w, h, ds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
            def area(p):
                return abs(sum(p[i-1][0]*p[i][1] - p[i][0]*p[i-1][1] for i in range(len(p)))) / 2
            def code(t):
                t = t.lower()
                return 3 if 'vasive' in t else 2 if 'situ' in t else 1 if 'nign' in t else 0
            def job():
                regions = []
                for r in ET.parse(path).getroot().iter('Region'):
                    pts = [(float(v.get('X')), float(v.get('Y'))) for v in r.iter('Vertex')]
                    regions.append((area(pts), code(r.get('Text', '')), pts))
                regions.sort(key=lambda r: -r[0])
                img = Image.new('L', (round(w / ds), round(h / ds)), 0)
                draw = ImageDraw.Draw(img)
                for _, c, pts in regions:
                    draw.polygon([(x / ds - 0.5, y / ds - 0.5) for x, y in pts], fill=c)
                return img
            job(); job()
            times = []
            for _ in range(reps):
                t = time.perf_counter(); job(); times.append(time.perf_counter() - t)
            print(statistics.median(times))
            """;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-c", script, xml, repetitions.ToString(CultureInfo.InvariantCulture), SlideWidth.ToString(CultureInfo.InvariantCulture),
            SlideHeight.ToString(CultureInfo.InvariantCulture), Downsample.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python baseline failed: {error.Trim()}");
        }

        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }
}
