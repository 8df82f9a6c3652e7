// MSBuild task compiled by RoslynCodeTaskFactory (see Directory.Build.targets). It targets the netstandard surface
// that the factory compiles against, so it sticks to plain arrays and System.IO.
using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Makes TorchSharp 0.107.0's libLibTorchSharp.so load on distributions whose libstdc++ predates GCC 13 (Debian 12
/// stops at GLIBCXX_3.4.30). The library's only GLIBCXX_3.4.32 symbol is std::ios_base_library_init(), referenced
/// without a relocation, so marking that version requirement weak (VER_FLG_WEAK in its Vernaux entry) lets the
/// dynamic loader accept the older libstdc++ and the library runs correctly.
/// </summary>
/// <remarks>
/// Only the copy in an output or publish folder is changed, never the NuGet cache: the patched bytes are written to a
/// temporary file that then replaces the output file by rename (which also breaks any hard or symbolic link into the
/// cache). The file is patched only when its sha256 is the known original and the result must hash to the known
/// patched value; a patched file is left alone; any other file gets a warning and no change.
/// </remarks>
public class HistoPatchLibTorchSharp : Task
{
    private const string LibraryName = "libLibTorchSharp.so";
    private const string RequiredVersion = "GLIBCXX_3.4.32";
    private const string OriginalSha256 = "cf33b1b0bb6bbb9754a768fb5c5d04d9f498603be50e73f55621a0b40ee608b8";
    private const string PatchedSha256 = "5968efac8270eff8a2b5ca7381612ea9cc54d81cf4104a54e0e6106b7b5f11e3";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;
    private const string WarningCode = "HISTO1001";
    private const string NotRequired = "version not required";

    /// <summary>Output or publish folder that may hold libLibTorchSharp.so.</summary>
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>
    /// auto: patch when this machine's libstdc++ lacks GLIBCXX_3.4.32; always: patch regardless (for output that will
    /// run on an older distribution than the build machine's); never: do nothing.
    /// </summary>
    public string Mode { get; set; } = "auto";

    /// <summary>Set when the file was changed by this run.</summary>
    [Output]
    public bool Patched { get; set; }

    public override bool Execute()
    {
        string mode = (Mode ?? "auto").Trim().ToLowerInvariant();
        if (mode == "never")
        {
            return true;
        }

        if (mode != "auto" && mode != "always")
        {
            Log.LogError("HistoLibTorchSharpPatch must be auto, always or never, not '{0}'.", Mode);
            return false;
        }

        string library = FindLibrary(Directory);
        if (library == null)
        {
            return true;
        }

        if (mode == "auto")
        {
            string libStdCxx = FindSystemLibStdCxx();
            if (libStdCxx == null)
            {
                Log.LogMessage(MessageImportance.Low, "{0}: no system libstdc++.so.6 found; not patching.", library);
                return true;
            }

            if (Contains(File.ReadAllBytes(libStdCxx), Encoding.ASCII.GetBytes(RequiredVersion + "\0")))
            {
                Log.LogMessage(MessageImportance.Low, "{0} provides {1}; {2} needs no patch.", libStdCxx, RequiredVersion, library);
                return true;
            }
        }

        try
        {
            PatchFile(library);
        }
        catch (IOException e)
        {
            Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0, "Could not patch {0}: {1}", LibraryName, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0, "Could not patch {0}: {1}", LibraryName, e.Message);
        }

        return !Log.HasLoggedErrors;
    }

    private void PatchFile(string library)
    {
        byte[] bytes = File.ReadAllBytes(library);
        string hash = Sha256(bytes);
        if (hash == PatchedSha256)
        {
            Log.LogMessage(MessageImportance.Low, "{0} is already patched.", library);
            return;
        }

        string problem;
        long flagsOffset = FindVernauxFlags(bytes, RequiredVersion, out problem);
        if (hash != OriginalSha256)
        {
            bool notRequired = flagsOffset < 0 && problem == NotRequired;
            if (notRequired || (flagsOffset >= 0 && (ReadU16(bytes, flagsOffset) & VerFlagWeak) != 0))
            {
                // A newer TorchSharp built against an older libstdc++, or one patched some other way.
                Log.LogMessage(MessageImportance.Low, "{0} (sha256 {1}) does not strictly require {2}; not patched.", library, hash, RequiredVersion);
                return;
            }

            if (flagsOffset < 0)
            {
                Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0,
                    "{0} has an unknown sha256 {1} and its ELF version section could not be read ({2}); it was not patched.",
                    LibraryName, hash, problem);
                return;
            }

            Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0,
                "{0} has an unknown sha256 {1} and requires {2}, which this machine's libstdc++ lacks; it was not patched and will fail to load. Check the TorchSharp version and update the known hashes in build/PatchLibTorchSharp.cs.",
                LibraryName, hash, RequiredVersion);
            return;
        }

        if (flagsOffset < 0)
        {
            Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0, "{0} matches the known hash but its ELF version section could not be read ({1}); not patched.", LibraryName, problem);
            return;
        }

        ushort flags = (ushort)(ReadU16(bytes, flagsOffset) | VerFlagWeak);
        bytes[flagsOffset] = (byte)flags;
        bytes[flagsOffset + 1] = (byte)(flags >> 8);
        string patchedHash = Sha256(bytes);
        if (patchedHash != PatchedSha256)
        {
            Log.LogWarning(null, WarningCode, null, library, 0, 0, 0, 0, "Patching {0} gave sha256 {1}, expected {2}; not written.", LibraryName, patchedHash, PatchedSha256);
            return;
        }

        // Keep the original timestamp so that the SDK's incremental copy (same size and time) leaves the patched
        // file in place on the next build.
        DateTime lastWrite = File.GetLastWriteTimeUtc(library);
        string temporary = library + ".histo-patch.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.SetLastWriteTimeUtc(temporary, lastWrite);
        ReplaceByRename(temporary, library);
        Patched = true;
        Log.LogMessage(MessageImportance.High, "Patched {0}: {1} marked weak (byte {2}), so it loads with this libstdc++.", library, RequiredVersion, flagsOffset);
    }

    private static void ReplaceByRename(string source, string destination)
    {
        try
        {
            // rename(2) on Unix: atomic, and replaces a link rather than writing through it.
            File.Replace(source, destination, null);
        }
        catch
        {
            File.Delete(source);
            throw;
        }
    }

    private static string FindLibrary(string directory)
    {
        if (string.IsNullOrEmpty(directory) || !System.IO.Directory.Exists(directory))
        {
            return null;
        }

        string[] candidates =
        {
            Path.Combine(directory, LibraryName),
            Path.Combine(directory, "runtimes", "linux-x64", "native", LibraryName),
        };
        foreach (string candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    /// <summary>
    /// The libstdc++.so.6 the dynamic loader would pick: the first existing path listed in /etc/ld.so.cache (what
    /// `ldconfig -p` prints), else the usual library folders.
    /// </summary>
    private static string FindSystemLibStdCxx()
    {
        const string soname = "/libstdc++.so.6";
        var candidates = new List<string>();
        try
        {
            if (File.Exists("/etc/ld.so.cache"))
            {
                byte[] cache = File.ReadAllBytes("/etc/ld.so.cache");
                int start = 0;
                for (int i = 0; i <= cache.Length; i++)
                {
                    if (i == cache.Length || cache[i] == 0)
                    {
                        if (i - start > soname.Length && cache[start] == (byte)'/')
                        {
                            string path = Encoding.UTF8.GetString(cache, start, i - start);
                            if (path.EndsWith(soname, StringComparison.Ordinal))
                            {
                                candidates.Add(path);
                            }
                        }

                        start = i + 1;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        candidates.Add("/usr/lib/x86_64-linux-gnu" + soname);
        candidates.Add("/lib/x86_64-linux-gnu" + soname);
        candidates.Add("/usr/lib64" + soname);
        candidates.Add("/lib64" + soname);
        candidates.Add("/usr/lib" + soname);
        foreach (string candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Finds the file offset of vna_flags of the Vernaux entry named <paramref name="version"/> in the ELF64
    /// little-endian .gnu.version_r (SHT_GNU_verneed) section, or -1 with a reason.
    /// </summary>
    private static long FindVernauxFlags(byte[] elf, string version, out string problem)
    {
        problem = null;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            problem = "not an ELF file";
            return -1;
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            problem = "not ELF64 little-endian";
            return -1;
        }

        long sectionHeaders = (long)ReadU64(elf, 0x28);
        int entrySize = ReadU16(elf, 0x3a);
        int sectionCount = ReadU16(elf, 0x3c);
        if (entrySize < 64 || sectionHeaders <= 0 || sectionHeaders > elf.Length || (long)entrySize * sectionCount > elf.Length - sectionHeaders)
        {
            problem = "section headers out of range";
            return -1;
        }

        for (int i = 0; i < sectionCount; i++)
        {
            long header = sectionHeaders + ((long)i * entrySize);
            if (ReadU32(elf, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long offset = (long)ReadU64(elf, header + 24);
            long size = (long)ReadU64(elf, header + 32);
            uint link = ReadU32(elf, header + 40);
            uint needCount = ReadU32(elf, header + 44);
            if (offset < 0 || size < 0 || offset > elf.Length || size > elf.Length - offset || link >= sectionCount)
            {
                problem = ".gnu.version_r out of range";
                return -1;
            }

            long stringsHeader = sectionHeaders + ((long)link * entrySize);
            long strings = (long)ReadU64(elf, stringsHeader + 24);
            long stringsSize = (long)ReadU64(elf, stringsHeader + 32);
            if (strings < 0 || stringsSize < 0 || strings > elf.Length || stringsSize > elf.Length - strings)
            {
                problem = "dynamic string table out of range";
                return -1;
            }

            long need = offset;
            for (uint n = 0; n < needCount; n++)
            {
                if (need < offset || need + 16 > offset + size)
                {
                    problem = "Verneed entry out of range";
                    return -1;
                }

                int auxCount = ReadU16(elf, need + 2);
                long aux = need + ReadU32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    if (aux < offset || aux + 16 > offset + size)
                    {
                        problem = "Vernaux entry out of range";
                        return -1;
                    }

                    uint name = ReadU32(elf, aux + 8);
                    if (name < stringsSize && StringAt(elf, strings + name, strings + stringsSize) == version)
                    {
                        return aux + 4;
                    }

                    aux += ReadU32(elf, aux + 12);
                }

                uint next = ReadU32(elf, need + 12);
                if (next == 0)
                {
                    break;
                }

                need += next;
            }

            problem = NotRequired;
            return -1;
        }

        problem = "no .gnu.version_r section";
        return -1;
    }

    private static string StringAt(byte[] bytes, long start, long end)
    {
        long i = start;
        while (i < end && bytes[i] != 0)
        {
            i++;
        }

        return Encoding.ASCII.GetString(bytes, (int)start, (int)(i - start));
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return true;
            }
        }

        return false;
    }

    private static string Sha256(byte[] bytes)
    {
        using (SHA256 sha = SHA256.Create())
        {
            byte[] digest = sha.ComputeHash(bytes);
            var text = new StringBuilder(digest.Length * 2);
            foreach (byte b in digest)
            {
                text.Append(b.ToString("x2"));
            }

            return text.ToString();
        }
    }

    private static ushort ReadU16(byte[] b, long o) => (ushort)(b[o] | (b[o + 1] << 8));

    private static uint ReadU32(byte[] b, long o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

    private static ulong ReadU64(byte[] b, long o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);
}
