/// Where a configuration value came from, for messages and `migrate-cli config show`.
enum ValueOrigin: Sendable, Hashable, CustomStringConvertible {
    case file(path: String, line: Int)
    case environment(String)
    case flag
    case defaultValue

    var description: String {
        switch self {
        case .file(let path, let line): line > 0 ? "\(path):\(line)" : path
        case .environment(let name): "environment \(name)"
        case .flag: "--set"
        case .defaultValue: "default"
        }
    }
}

/// One thing wrong with the configuration: the field, what is wrong, and where the value came from.
struct ConfigurationIssue: Sendable, Hashable, CustomStringConvertible {
    /// The field's dotted name (`policy.drain-deadline`), or the environment variable or file concerned.
    var field: String
    /// What is wrong and, where it helps, what to write instead. Never contains a secret.
    var message: String
    var origin: ValueOrigin?

    init(field: String, _ message: String, origin: ValueOrigin? = nil) {
        self.field = field
        self.message = message
        self.origin = origin
    }

    var description: String {
        "\(field)" + (origin.map { " (\($0))" } ?? "") + ": \(message)"
    }
}

/// The configuration could not be used. Lists every problem found, each naming its field. Nothing was changed on
/// any server when this is thrown.
struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case fileUnreadable, syntax, invalid, secretUnavailable, fileExists
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration file is missing or cannot be read.
        static let fileUnreadable = Code(.fileUnreadable)
        /// The file is not valid YAML.
        static let syntax = Code(.syntax)
        /// One or more fields are unknown, malformed, missing or inconsistent.
        static let invalid = Code(.invalid)
        /// A password could not be read from where the configuration says it is.
        static let secretUnavailable = Code(.secretUnavailable)
        /// `init` would overwrite an existing file.
        static let fileExists = Code(.fileExists)

        var description: String { base.rawValue }
    }

    var code: Code
    var issues: [ConfigurationIssue]

    init(code: Code, issues: [ConfigurationIssue]) {
        self.code = code
        self.issues = issues
    }

    init(code: Code, field: String, _ message: String, origin: ValueOrigin? = nil) {
        self.init(code: code, issues: [ConfigurationIssue(field: field, message, origin: origin)])
    }

    static func == (lhs: ConfigurationError, rhs: ConfigurationError) -> Bool { lhs.code == rhs.code }

    var description: String {
        if issues.count == 1 { return "configuration: \(issues[0])" }
        return "configuration: \(issues.count) problems\n" + issues.map { "  - \($0)" }.joined(separator: "\n")
    }
}
