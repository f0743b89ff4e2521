import ArgumentParser

/// Checks the command words of a command line before argument-parser sees them, to name an unknown command with a
/// suggestion (`migrate-cli cutovr` → "did you mean `cutover`?") and to refuse `migrate-cli help nonexistent`,
/// which argument-parser answers with the root help and exit 0. Both exit 64 (usage).
enum CommandSuggestion {
    /// The problem with `arguments` (after the global options were hoisted), nil when its command words are known
    /// or none are given.
    static func problem(_ arguments: [String], root: any ParsableCommand.Type = MigrateCommand.self) -> String? {
        let words = Array(arguments.prefix { !$0.hasPrefix("-") })
        guard let first = words.first else { return nil }
        // `help a b`: every word must name a command; otherwise only the first word is checked here (argument-parser
        // reports the deeper ones, exit 64 too).
        let path = first == "help" ? Array(words.dropFirst()) : [first]
        guard let (parent, known, unknown) = walk(path, from: root) else { return nil }
        return message(unknown, known: known, parent: parent)
    }

    /// Follows `path` through the command tree; returns the names known where it left the tree and the word that
    /// left it, or nil when every word is a command.
    private static func walk(_ path: [String], from root: any ParsableCommand.Type) -> (parent: [String], known: [String], unknown: String)? {
        var command = root
        var parent: [String] = []
        for word in path {
            let children = command.configuration.subcommands
            if children.isEmpty { return nil }  // arguments of a leaf command: not ours to judge
            guard let next = children.first(where: { name(of: $0) == word }) else {
                return (parent, children.map(name(of:)), word)
            }
            parent.append(word)
            command = next
        }
        return nil
    }

    private static func name(of command: any ParsableCommand.Type) -> String {
        command.configuration.commandName ?? command._commandName
    }

    private static func message(_ unknown: String, known: [String], parent: [String]) -> String {
        var text = "unknown command `\(unknown)`" + (parent.isEmpty ? "" : " under `migrate-cli \(parent.joined(separator: " "))`")
        if let suggestion = suggestion(for: unknown, among: known) {
            text += " (did you mean `\(suggestion)`?)"
        }
        return text + "; commands: " + known.sorted().joined(separator: ", ") + " (see `migrate-cli --help`)"
    }

    /// The known name closest to `word` (edit distance at most 2, or a prefix of it), nil when none is close.
    static func suggestion(for word: String, among names: [String]) -> String? {
        let lowered = word.lowercased()
        if lowered.count >= 2, let prefixed = names.filter({ $0.hasPrefix(lowered) }).sorted().first {
            return prefixed
        }
        var best: (name: String, distance: Int)?
        for name in names.sorted() {
            let score = distance(lowered, name)
            if score <= 2, score < (best?.distance ?? Int.max) { best = (name, score) }
        }
        return best?.name
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution: Int = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                let deletion: Int = previous[j] + 1
                let insertion: Int = current[j - 1] + 1
                current[j] = Swift.min(substitution, deletion, insertion)
            }
            previous = current
        }
        return previous[b.count]
    }
}
