using System.Globalization;
using System.Text;
using System.Text.Json;
using Histo.Bach;
using Histo.Inference;
using Histo.Scoring;

namespace Histo.Outputs;

/// <summary>What made a slide's outputs, as its output directory records it.</summary>
/// <param name="ModelName">Model name (its directory name).</param>
/// <param name="ModelId">A hash of the model's weights and card (null when unknown): equal ids, same model.</param>
/// <param name="StartedUtc">When the slide's run started (UTC; null when unknown): <c>summary.json</c> records it and the wall seconds from then until the outputs are written.</param>
public sealed record SlideProvenance(string ModelName, string? ModelId = null, DateTime? StartedUtc = null)
{
    /// <summary>The version of the software writing the outputs.</summary>
    public static string SoftwareVersion => typeof(SlideProvenance).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

/// <summary>The figures of one slide's <c>summary.json</c>.</summary>
/// <param name="Slide">Slide name (the output folder's name).</param>
/// <param name="Model">Model name (its directory name).</param>
/// <param name="ModelId">Hash of the model's weights and card (null when unknown).</param>
/// <param name="Classes">The model's classes.</param>
/// <param name="PatchCount">Patches classified.</param>
/// <param name="TissueCells">Map cells inside the region of interest.</param>
/// <param name="TissueAreaMm2">Their area in mm², when the slide's MPP is known.</param>
/// <param name="PerClass">Area, fraction of tissue and largest connected focus per class, by class index.</param>
/// <param name="Warnings">Fallbacks taken (the file records their messages).</param>
public sealed record SlideSummary(string Slide, string Model, string? ModelId, IReadOnlyList<string> Classes, int PatchCount, long TissueCells, double? TissueAreaMm2,
    IReadOnlyList<ClassStatistics> PerClass, IReadOnlyList<HistoWarning> Warnings)
{
    /// <summary>The JSON document.</summary>
    internal string ToJson(SlideInferenceResult result, SlideProvenance provenance)
    {
        var meanProbabilities = SlideOutputs.MeanProbabilities(result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("slide", Slide);
            w.WriteString("software_version", SlideProvenance.SoftwareVersion);
            w.WriteStartObject("model");
            w.WriteString("name", Model);
            if (ModelId is { } id)
            {
                w.WriteString("id", id);
            }

            w.WriteString("architecture", result.Card.Architecture);
            w.WriteStartArray("classes");
            foreach (string c in Classes)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            if (!Classes.SequenceEqual(result.Card.Classes))
            {
                w.WriteStartArray("labels"); // the class labels as the training data spells them
                foreach (string label in result.Card.Classes)
                {
                    w.WriteStringValue(label);
                }

                w.WriteEndArray();
            }

            if (result.Card.HasBachCodes)
            {
                w.WriteStartArray("bach_codes");
                foreach (int code in result.Card.BachCodes!)
                {
                    w.WriteNumberValue(code);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WritePropertyName("engine");
            if (result.Engine is { } engine)
            {
                engine.ToJson().WriteTo(w);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteString("rule", result.Rule.Thresholds is null ? "argmax" : "thresholds");
            if (result.Rule.Thresholds is { } thresholds)
            {
                w.WriteStartArray("thresholds");
                foreach (double t in thresholds)
                {
                    w.WriteNumberValue(t);
                }

                w.WriteEndArray();
            }

            WriteNullable(w, "slide_mpp", result.Level0MppX);
            WriteNullable(w, "patch_mpp", result.Resolution.Mpp);
            w.WriteNumber("patch_size_pixels", result.Card.PatchSizePixels);
            w.WriteNumber("patch_count", PatchCount);
            w.WriteNumber("map_width", result.Geometry.Width);
            w.WriteNumber("map_height", result.Geometry.Height);
            WriteNullable(w, "cell_size_um", result.CellSizeMicrons is { } cell ? Math.Round(cell, 3) : null);
            w.WriteNumber("tissue_cells", TissueCells);
            WriteNullable(w, "tissue_area_mm2", TissueAreaMm2);
            w.WriteStartArray("classes");
            foreach (var s in PerClass)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteNumber("index", s.Code);
                if (result.Card.HasBachCodes)
                {
                    w.WriteString("bach_class", BachClasses.Names[result.Card.BachCodes![s.Code]]);
                }

                w.WriteNumber("cells", s.PixelCount);
                WriteNullable(w, "area_mm2", s.AreaMm2);
                w.WriteNumber("fraction_of_tissue", Math.Round(s.Fraction, 6));
                WriteNullable(w, "mean_probability", meanProbabilities[s.Code]);
                if (s.LargestFocus is { } f)
                {
                    w.WriteStartObject("largest_focus");
                    w.WriteNumber("cells", f.PixelCount);
                    WriteNullable(w, "area_mm2", f.AreaMm2);
                    WriteNullable(w, "max_feret_mm", f.MaxFeretMm);
                    w.WriteNumber("level0_x", Math.Round(f.Level0X, 1));
                    w.WriteNumber("level0_y", Math.Round(f.Level0Y, 1));
                    w.WriteNumber("level0_width", Math.Round(f.Level0Width, 1));
                    w.WriteNumber("level0_height", Math.Round(f.Level0Height, 1));
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("largest_focus");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("warnings");
            foreach (var warning in Warnings)
            {
                w.WriteStringValue(warning.Message);
            }

            w.WriteEndArray();
            WriteRun(w, result.Sampling, provenance.StartedUtc);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// The <c>run</c> object: when the slide's run started and how long it took (the only figures a rerun does not
    /// reproduce), and how its patches were laid out and filtered.
    /// </summary>
    private static void WriteRun(Utf8JsonWriter w, SlideSampling? sampling, DateTime? startedUtc)
    {
        var finished = DateTime.UtcNow;
        w.WriteStartObject("run");
        if (startedUtc is { } given)
        {
            var started = given.Kind == DateTimeKind.Local ? given.ToUniversalTime() : given;
            w.WriteString("started_utc", started.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteNumber("wall_seconds", Math.Round((finished - started).TotalSeconds, 3));
        }
        else
        {
            w.WriteNull("started_utc");
            w.WriteNull("wall_seconds");
        }

        if (sampling is { } p)
        {
            w.WriteNumber("stride_pixels", p.StridePixels);
            w.WriteNumber("level0_stride_pixels", p.Level0StridePixels);
            w.WriteNumber("min_tissue_fraction", p.MinTissueFraction);
            w.WriteString("region", p.Region);
            w.WriteString("region_file", p.RegionFile);
            w.WriteString("tissue_method", p.TissueMethod);
        }

        w.WriteEndObject();
    }

    /// <summary>The sampling a <c>summary.json</c> records in its <c>run</c> object, or null when it records none.</summary>
    internal static SlideSampling? ReadSampling(JsonElement root)
    {
        if (!root.TryGetProperty("run", out var run) || run.ValueKind != JsonValueKind.Object
            || !run.TryGetProperty("stride_pixels", out var stride) || stride.ValueKind != JsonValueKind.Number || !stride.TryGetInt32(out int stridePixels)
            || !run.TryGetProperty("level0_stride_pixels", out var level0) || level0.ValueKind != JsonValueKind.Number
            || !run.TryGetProperty("min_tissue_fraction", out var minTissue) || minTissue.ValueKind != JsonValueKind.Number
            || !run.TryGetProperty("region", out var region) || region.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return new SlideSampling(stridePixels, level0.GetDouble(), minTissue.GetDouble(), region.GetString()!, Text("region_file"), Text("tissue_method"));

        string? Text(string name) => run.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, Math.Round(v, 6));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
