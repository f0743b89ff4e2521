import Foundation

/// Preflight for a configuration without ProxySQL (a `switch` section, issue #15): the database, replication and
/// reverse-replication checks apply as they are; the `proxysql.*` checks do not (there is no proxy to check), and the
/// switch commands are checked instead: each must be set and its program must exist and be executable on this host
/// (the tool runs it with `/bin/sh -c` from here).
extension HookSwitch {
    /// Shell builtins and keywords: `/bin/sh` runs them itself, there is no file to find.
    static let shellBuiltins: Set<String> = [
        ".", ":", "[", "alias", "break", "case", "cd", "command", "continue", "echo", "eval", "exec", "exit", "export",
        "false", "for", "if", "printf", "read", "readonly", "set", "shift", "test", "trap", "true", "umask", "unset",
        "wait", "while", "{", "(",
    ]
    /// Shells whose first operand is a script file (`sh /path/hook.sh`).
    static let shells: Set<String> = ["sh", "bash", "dash", "ksh", "zsh"]

    /// How a command's program is found on this host (injected by tests).
    public struct ProgramLookup: Sendable {
        /// Whether a file at this path exists and is executable.
        public var isExecutable: @Sendable (String) -> Bool
        /// Whether a file at this path exists (a script given to a shell need not be executable).
        public var exists: @Sendable (String) -> Bool
        /// The directories of `PATH`.
        public var searchPath: [String]

        /// Creates a lookup.
        public init(isExecutable: @escaping @Sendable (String) -> Bool, exists: @escaping @Sendable (String) -> Bool, searchPath: [String]) {
            self.isExecutable = isExecutable
            self.exists = exists
            self.searchPath = searchPath
        }

        /// This host's file system and `PATH`.
        public static var host: ProgramLookup {
            ProgramLookup(
                isExecutable: { FileManager.default.isExecutableFile(atPath: $0) },
                exists: { FileManager.default.fileExists(atPath: $0) },
                searchPath: (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init))
        }
    }

    /// The checks of the two switch commands: `switch.cutover-command`, `switch.failback-command`.
    public static func commandChecks(_ settings: Settings, lookup: ProgramLookup = .host) -> [PreflightCheck] {
        Direction.allCases.map { direction in
            commandCheck(direction: direction, command: settings.command(for: direction), lookup: lookup)
        }
    }

    /// One command's check: fail when it is empty, when its program is a path that does not exist or is not
    /// executable, when a shell's script does not exist, or when the program is on no `PATH` directory (it would exit
    /// 127 at the point of no return). Only the first program is looked at: a pipeline's later parts are not.
    public static func commandCheck(direction: Direction, command: String, lookup: ProgramLookup) -> PreflightCheck {
        let id = "switch.\(direction)-command"
        let title = "the \(direction) switch command can run on this host"
        let key = "switch.\(direction == .cutover ? "cutover" : "failback")-command"
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
            // Leading `NAME=value` assignments set the program's environment.
            .drop { $0.contains("=") && !$0.hasPrefix("=") && !$0.contains("/") }
        guard let program = words.first else {
            return PreflightCheck(id: id, title: title, status: .fail, detail: "no \(direction) switch command (\(key) is empty)",
                remedy: "set \(key) to the command that points the applications at the new writer")
        }
        let missing = { (what: String) in
            PreflightCheck(id: id, title: title, status: .fail, detail: what,
                remedy: "fix \(key): the switch command runs after the point of no return, where a command that cannot start leaves the applications on a read-only writer")
        }
        let resolved: String
        if program.contains("/") {
            guard lookup.isExecutable(program) else { return missing("\(program) does not exist or is not executable (from \(key): \(command))") }
            resolved = program
        } else if shellBuiltins.contains(program) {
            return PreflightCheck(id: id, title: title, status: .pass, detail: "\(program) is a shell builtin (run by /bin/sh -c)")
        } else if let found = lookup.searchPath.map({ $0 + "/" + program }).first(where: lookup.isExecutable) {
            resolved = found
        } else {
            return missing("\(program) is on no PATH directory (\(lookup.searchPath.joined(separator: ":"))): the command would exit 127")
        }
        let name = resolved.split(separator: "/").last.map(String.init) ?? resolved
        if shells.contains(name), let script = words.dropFirst().first(where: { !$0.hasPrefix("-") }),
            !words.dropFirst().contains("-c")
        {
            guard lookup.exists(script) else { return missing("the script \(script) given to \(name) does not exist (from \(key))") }
            return PreflightCheck(id: id, title: title, status: .pass, detail: "\(name) runs \(script)")
        }
        return PreflightCheck(id: id, title: title, status: .pass, detail: "\(program) is \(resolved)")
    }

    /// A preflight report for a configuration without ProxySQL: `report`'s checks without the `proxysql.*` ones,
    /// followed by the switch commands' checks.
    public static func preflightReport(_ report: PreflightReport, settings: Settings, lookup: ProgramLookup = .host) -> PreflightReport {
        PreflightReport(checks: report.checks.filter { !$0.id.hasPrefix("proxysql.") } + commandChecks(settings, lookup: lookup))
    }
}
