using System.Text;

namespace Histo.Datasets;

/// <summary>One row of a CSV manifest.</summary>
/// <param name="LineNumber">1-based line where the row starts.</param>
/// <param name="Path">The image path as written (relative to the manifest's folder, or absolute).</param>
/// <param name="Label">The class label.</param>
/// <param name="Group">The group (patient, source image...), or null when the manifest has no group for the row.</param>
public sealed record ManifestRow(int LineNumber, string Path, string Label, string? Group);

/// <summary>
/// Reads a CSV manifest <c>path,label[,group]</c>: RFC 4180 quoting (fields in double quotes may hold commas,
/// quotes written twice, and line breaks), UTF-8 with or without BOM, blank lines ignored. The header line is
/// optional: a first row naming a path column (<c>path</c>, <c>file</c>, <c>filename</c>, <c>image</c>) and a label
/// column (<c>label</c>, <c>class</c>) is a header, and its columns may then come in any order, with an optional
/// <c>group</c> (or <c>patient</c>) column and other columns ignored. Without a header the columns are path, label
/// and optionally group.
/// </summary>
public static class CsvManifest
{
    private static readonly string[] PathNames = ["path", "file", "filename", "file_name", "image", "image_path"];
    private static readonly string[] LabelNames = ["label", "class", "class_name", "target"];
    private static readonly string[] GroupNames = ["group", "patient", "patient_id", "source", "source_image", "slide"];

    /// <summary>
    /// Parses the manifest. Throws <see cref="ManifestFormatException"/> (with the line number) on malformed CSV,
    /// a wrong number of fields, or an empty path or label; <see cref="DatasetException"/> when the file cannot be read.
    /// </summary>
    public static IReadOnlyList<ManifestRow> Read(string manifestPath)
        => ReadFile(manifestPath);

    /// <summary>Largest manifest read (a million rows take about 100 MB).</summary>
    public const long MaxFileBytes = 256L << 20;

    private static IReadOnlyList<ManifestRow> ReadFile(string manifestPath)
    {
        string text;
        try
        {
            text = IO.InputFile.ReadAllText(manifestPath, MaxFileBytes, "a CSV manifest");
        }
        catch (IO.InputFileException e)
        {
            throw new DatasetException(e.Message, e);
        }

        return Parse(text, manifestPath);
    }

    /// <summary>Parses manifest text; <paramref name="name"/> is used in error messages.</summary>
    public static IReadOnlyList<ManifestRow> Parse(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var records = SplitRecords(text, name);
        var rows = new List<ManifestRow>();
        if (records.Count == 0)
        {
            return rows;
        }

        int pathColumn = 0, labelColumn = 1, groupColumn = 2;
        int? headerFieldCount = null;
        int first = 0;
        var head = records[0].Fields;
        int headerPath = IndexOfAny(head, PathNames);
        int headerLabel = IndexOfAny(head, LabelNames);
        if (headerPath >= 0 && headerLabel >= 0)
        {
            pathColumn = headerPath;
            labelColumn = headerLabel;
            groupColumn = IndexOfAny(head, GroupNames);
            headerFieldCount = head.Count;
            first = 1;
        }
        else if (headerPath >= 0 || headerLabel >= 0)
        {
            throw new ManifestFormatException(name, records[0].LineNumber,
                "the header needs both a path column (path, file or image) and a label column (label or class), got: " + string.Join(",", head));
        }

        for (int r = first; r < records.Count; r++)
        {
            var (line, fields) = records[r];
            if (headerFieldCount is { } expected)
            {
                if (fields.Count != expected)
                {
                    throw new ManifestFormatException(name, line, $"expected {expected} fields as in the header, found {fields.Count}");
                }
            }
            else if (fields.Count is < 2 or > 3)
            {
                throw new ManifestFormatException(name, line, $"expected path,label[,group], found {fields.Count} field{(fields.Count == 1 ? "" : "s")}");
            }

            string path = fields[pathColumn].Trim();
            string label = fields[labelColumn].Trim();
            string? group = groupColumn >= 0 && groupColumn < fields.Count ? fields[groupColumn].Trim() : null;
            if (path.Length == 0)
            {
                throw new ManifestFormatException(name, line, "empty path");
            }

            if (label.Length == 0)
            {
                throw new ManifestFormatException(name, line, $"empty label for '{path}'");
            }

            rows.Add(new ManifestRow(line, path, label, string.IsNullOrEmpty(group) ? null : group));
        }

        return rows;
    }

    private static int IndexOfAny(List<string> fields, string[] names)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            if (names.Contains(fields[i].Trim(), StringComparer.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Splits CSV text into records of fields, each with the 1-based line where it starts; skips blank lines.</summary>
    private static List<(int LineNumber, List<string> Fields)> SplitRecords(string text, string name)
    {
        var records = new List<(int, List<string>)>();
        int i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        int line = 1;
        var field = new StringBuilder();
        while (i < text.Length)
        {
            int recordLine = line;
            var fields = new List<string>();
            bool blank = true;
            while (true)
            {
                field.Clear();
                if (i < text.Length && text[i] == '"')
                {
                    blank = false;
                    int quoteLine = line;
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            throw new ManifestFormatException(name, quoteLine, "unterminated quoted field (a \" without its closing \")");
                        }

                        char c = text[i++];
                        if (c == '"')
                        {
                            if (i < text.Length && text[i] == '"')
                            {
                                field.Append('"');
                                i++;
                                continue;
                            }

                            break;
                        }

                        if (c == '\n')
                        {
                            line++;
                        }

                        field.Append(c);
                    }

                    if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        throw new ManifestFormatException(name, line, $"unexpected '{text[i]}' after a closing quote (quotes inside a field are written \"\")");
                    }
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        if (text[i] == '"')
                        {
                            throw new ManifestFormatException(name, line, "a quote inside an unquoted field (quote the whole field and write inner quotes as \"\")");
                        }

                        field.Append(text[i++]);
                    }

                    if (field.Length > 0 && !string.IsNullOrWhiteSpace(field.ToString()))
                    {
                        blank = false;
                    }
                }

                fields.Add(field.ToString());
                if (i < text.Length && text[i] == ',')
                {
                    blank = false;
                    i++;
                    continue;
                }

                break;
            }

            if (i < text.Length && text[i] == '\r')
            {
                i++;
            }

            if (i < text.Length && text[i] == '\n')
            {
                i++;
                line++;
            }

            if (!blank)
            {
                records.Add((recordLine, fields));
            }
        }

        return records;
    }
}
