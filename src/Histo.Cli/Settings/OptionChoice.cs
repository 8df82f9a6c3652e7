using Spectre.Console;

namespace Histo.Cli.Settings;

/// <summary>
/// The words a string option accepts and the typed value each one means, e.g. <c>--size-policy pad|resize|skip</c>.
/// A settings class keeps the word as typed (it is what <c>--help</c> states as the default) and checks it with
/// <see cref="Check"/>, which words every wrong value the same way: <c>--size-policy must be pad, resize or skip, got 'x'</c>.
/// </summary>
/// <typeparam name="T">The enum the words stand for.</typeparam>
internal sealed class OptionChoice<T>
    where T : struct, Enum
{
    private readonly (string Word, T Value)[] _choices;
    private readonly StringComparison _comparison;

    /// <summary>Creates the table of <paramref name="option"/>; <paramref name="ignoreCase"/> accepts PAD for pad.</summary>
    public OptionChoice(string option, bool ignoreCase, params (string Word, T Value)[] choices)
    {
        Option = option;
        _comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        _choices = choices;
    }

    /// <summary>The option's long name with its dashes, e.g. <c>--size-policy</c>.</summary>
    public string Option { get; }

    /// <summary>The value <paramref name="word"/> stands for, or null when the option does not take that word.</summary>
    public T? Find(string? word)
    {
        foreach (var (w, value) in _choices)
        {
            if (string.Equals(w, word, _comparison))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The value of a word that <see cref="Check"/> accepted; a usage error otherwise.</summary>
    public T Parse(string? word) => Find(word) ?? throw new UsageException(Message(word));

    /// <summary>Success when the option takes <paramref name="word"/>, else the one-line usage error.</summary>
    public ValidationResult Check(string? word) =>
        Find(word) is null ? ValidationResult.Error(Message(word)) : ValidationResult.Success();

    private string Message(string? word)
    {
        string[] words = [.. _choices.Select(c => c.Word)];
        string list = words.Length == 1 ? words[0] : string.Join(", ", words[..^1]) + " or " + words[^1];
        return $"{Option} must be {list}, got '{word}'";
    }
}
