import Foundation
import Yams

/// A field's value before it is typed: text or a list of texts, and where it came from.
struct RawValue: Sendable, Hashable {
    enum Content: Sendable, Hashable {
        case scalar(String)
        case list([String])
    }

    var content: Content
    var origin: ValueOrigin

    /// The value as one text (a list joined by commas), for messages and `config show`.
    var text: String {
        switch content {
        case .scalar(let text): text
        case .list(let items): items.joined(separator: ",")
        }
    }
}

/// The configuration as layers of named values, before typing and validation: the file, then the environment,
/// then `--set` flags, each layer overriding the one before (flag > environment > file > default).
struct RawConfiguration: Sendable {
    private(set) var values: [ConfigurationKey: RawValue] = [:]
    /// ProxySQL node names, in the order they first appeared (the file's order, then environment, then flags).
    private(set) var nodeNames: [String] = []

    init() {}

    subscript(key: ConfigurationKey) -> RawValue? { values[key] }

    mutating func set(_ key: ConfigurationKey, _ value: RawValue) {
        values[key] = value
        if key.segments.count >= 3, key.segments[0] == "proxysql", key.segments[1] == "nodes",
            !nodeNames.contains(key.segments[2])
        {
            nodeNames.append(key.segments[2])
        }
    }

    mutating func addNode(_ name: String) {
        if !nodeNames.contains(name) { nodeNames.append(name) }
    }

    /// `self` with `layer`'s values on top.
    func overlaid(with layer: RawConfiguration) -> RawConfiguration {
        var result = self
        for name in layer.nodeNames { result.addNode(name) }
        for (key, value) in layer.values { result.set(key, value) }
        return result
    }

    /// Every `password-env` value, so the environment scan does not mistake a password variable for a field.
    var referencedEnvironmentVariables: Set<String> {
        Set(values.filter { $0.key.segments.last == "password-env" }.map(\.value.text))
    }
}

// MARK: - File

extension RawConfiguration {
    /// Reads a YAML document. Unknown keys, misplaced lists and sections, and password fields become issues;
    /// the known fields are kept.
    ///
    /// - Throws: ``ConfigurationError`` with ``ConfigurationError/Code/syntax`` when the text is not YAML.
    static func parse(yaml: String, path: String) throws(ConfigurationError) -> (RawConfiguration, [ConfigurationIssue]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(code: .syntax, field: path, Self.describe(error))
        } catch {
            throw ConfigurationError(code: .syntax, field: path, "not valid YAML")
        }
        var raw = RawConfiguration()
        var issues: [ConfigurationIssue] = []
        guard let root else { return (raw, issues) }
        guard let mapping = root.mapping else {
            if root.isNullScalar { return (raw, issues) }
            throw ConfigurationError(
                code: .syntax,
                field: path,
                "the document must be a mapping of sections (source:, target:, proxysql:, ...)",
                origin: .file(path: path, line: root.mark?.line ?? 0)
            )
        }
        walk(mapping, at: [], path: path, into: &raw, issues: &issues)
        return (raw, issues)
    }

    private static func walk(
        _ mapping: Node.Mapping,
        at prefix: [String],
        path: String,
        into raw: inout RawConfiguration,
        issues: inout [ConfigurationIssue]
    ) {
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            let origin = ValueOrigin.file(path: path, line: line)
            guard let segment = keyNode.scalar?.string, !segment.isEmpty else {
                issues.append(ConfigurationIssue(field: prefix.joined(separator: "."), "a key must be a plain name", origin: origin))
                continue
            }
            let segments = prefix + [segment]
            let key = ConfigurationKey(segments)
            if let field = ConfigurationSchema.field(for: key) {
                if let value = leafValue(valueNode, field: field, key: key, origin: origin, issues: &issues) {
                    raw.set(key, value)
                }
                continue
            }
            if ConfigurationSchema.isSection(segments) {
                if prefix == ["proxysql", "nodes"] {
                    if let problem = NodeName.problem(segment) {
                        issues.append(ConfigurationIssue(field: key.description, problem, origin: origin))
                        continue
                    }
                    raw.addNode(segment)
                }
                if let child = valueNode.mapping {
                    walk(child, at: segments, path: path, into: &raw, issues: &issues)
                } else if valueNode.sequence != nil, segments == ["proxysql", "nodes"] {
                    issues.append(ConfigurationIssue(
                        field: key.description,
                        "list the nodes by name, as keys (`proxysql-1:` with `host:`, `port:` ... below it), not as a list",
                        origin: origin
                    ))
                } else if !valueNode.isNullScalar {
                    issues.append(ConfigurationIssue(field: key.description, "is a section: expected keys below it, not a value", origin: origin))
                }
                continue
            }
            if segment.lowercased().contains("password") {
                issues.append(ConfigurationIssue(
                    field: key.description,
                    "passwords are never read from the configuration file; use password-env, password-file, login-path or option-file",
                    origin: origin
                ))
                continue
            }
            let hint = ConfigurationSchema.suggestion(for: key).map { " (did you mean \($0)?)" } ?? ""
            issues.append(ConfigurationIssue(field: key.description, "unknown key\(hint)", origin: origin))
        }
    }

    private static func leafValue(
        _ node: Node,
        field: ConfigurationField,
        key: ConfigurationKey,
        origin: ValueOrigin,
        issues: inout [ConfigurationIssue]
    ) -> RawValue? {
        if node.isNullScalar { return nil }
        if field.kind == .list {
            if let sequence = node.sequence {
                var items: [String] = []
                for item in sequence {
                    guard let text = item.scalar?.string else {
                        issues.append(ConfigurationIssue(field: key.description, "expects a list of names", origin: origin))
                        return nil
                    }
                    items.append(text)
                }
                return RawValue(content: .list(items), origin: origin)
            }
            if let text = node.scalar?.string {
                return RawValue(content: .list(splitList(text)), origin: origin)
            }
            issues.append(ConfigurationIssue(field: key.description, "expects a list of names", origin: origin))
            return nil
        }
        guard let scalar = node.scalar else {
            let what = node.mapping != nil ? "a section" : "a list"
            issues.append(ConfigurationIssue(field: key.description, "expects a \(field.kind.typeName) value, not \(what)", origin: origin))
            return nil
        }
        return RawValue(content: .scalar(scalar.string), origin: origin)
    }

    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A YAML error as line, column and problem, without quoting the file (a line could hold a secret).
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // The scanner often notices a problem far from its cause (an unterminated quote is found at the end of
            // the file): point at the line where the bad token starts, and say where it was noticed.
            if let context, context.mark.line != mark.line {
                "line \(context.mark.line), column \(context.mark.column): \(context.text): \(problem) (noticed at line \(mark.line))"
            } else {
                "line \(mark.line), column \(mark.column): \(problem)"
            }
        case .duplicatedKeysInMapping(let duplicates, let context):
            "line \(context.mark.line): key \(duplicates.joined(separator: ", ")) appears twice in one section"
        case .reader(let problem, _, _, _):
            "cannot read the text: \(problem)"
        default:
            "not valid YAML"
        }
    }
}

extension Node {
    /// `~`, `null`, or nothing.
    var isNullScalar: Bool {
        guard let scalar else { return false }
        guard scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

/// ProxySQL node names: used in keys and environment variable names.
enum NodeName {
    static func problem(_ name: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard let first = name.first, first.isLetter || first.isNumber, name.allSatisfy({ allowed.contains($0) }) else {
            return "a node name is letters, digits, `-` and `_`, starting with a letter or digit"
        }
        return nil
    }

    /// The spelling of a node name inside an environment variable name.
    static func environmentSpelling(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

// MARK: - Environment and flags

extension RawConfiguration {
    /// The `MIGRATE_*` variables of `environment` that name fields. Node variables
    /// (`MIGRATE_PROXYSQL_NODES_<NAME>_<FIELD>`) apply to the node of that name in `knownNodes` (compared in upper
    /// case with `-` as `_`), or create a node named in lower case with `_` as `-`.
    ///
    /// - Returns: the layer and the variables that name no field (the caller reports those that are not referenced
    ///   as a `password-env`).
    static func fromEnvironment(
        _ environment: [String: String],
        knownNodes: [String]
    ) -> (RawConfiguration, unknown: [String]) {
        var exact: [String: ConfigurationKey] = [:]
        var nodeFields: [(suffix: String, segments: [String])] = []
        for field in ConfigurationSchema.fields {
            if let star = field.pattern.firstIndex(of: "*") {
                let tail = Array(field.pattern[(star + 1)...])
                nodeFields.append((ConfigurationKey(tail).environmentName.dropFirst("MIGRATE_".count).description, tail))
            } else {
                exact[ConfigurationKey(field.pattern).environmentName] = ConfigurationKey(field.pattern)
            }
        }
        nodeFields.sort { $0.suffix.count > $1.suffix.count }
        let nodePrefix = "MIGRATE_PROXYSQL_NODES_"

        var layer = RawConfiguration()
        var unknown: [String] = []
        for name in environment.keys.sorted() where name.hasPrefix("MIGRATE_") && !reservedEnvironment.contains(name) {
            let text = environment[name] ?? ""
            let origin = ValueOrigin.environment(name)
            if let key = exact[name] {
                layer.set(key, value(text, for: key, origin: origin))
                continue
            }
            if name.hasPrefix(nodePrefix) {
                let rest = String(name.dropFirst(nodePrefix.count))
                if let match = nodeFields.first(where: { rest.hasSuffix("_" + $0.suffix) && rest.count > $0.suffix.count + 1 }) {
                    let spelled = String(rest.dropLast(match.suffix.count + 1))
                    let node = knownNodes.first { NodeName.environmentSpelling($0) == spelled }
                        ?? spelled.lowercased().replacingOccurrences(of: "_", with: "-")
                    let key = ConfigurationKey(["proxysql", "nodes", node] + match.segments)
                    layer.set(key, value(text, for: key, origin: origin))
                    continue
                }
            }
            unknown.append(name)
        }
        return (layer, unknown)
    }

    /// Variables with the prefix that are not fields: the configuration file's path, and the SIGKILL test hook
    /// (``TestKillHook``).
    static let reservedEnvironment: Set<String> = ["MIGRATE_CONFIG", TestKillHook.variable]

    /// `--set key=value` assignments.
    static func fromAssignments(_ assignments: [String]) -> (RawConfiguration, [ConfigurationIssue]) {
        var layer = RawConfiguration()
        var issues: [ConfigurationIssue] = []
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "=") else {
                issues.append(ConfigurationIssue(field: assignment, "expected key=value, for example policy.drain-deadline=300ms", origin: .flag))
                continue
            }
            let name = assignment[..<equals].trimmingCharacters(in: .whitespaces)
            let text = String(assignment[assignment.index(after: equals)...])
            let key = ConfigurationKey(name)
            if key.segments.last?.lowercased().contains("password") == true, ConfigurationSchema.field(for: key) == nil {
                issues.append(ConfigurationIssue(
                    field: name,
                    "passwords are never accepted on the command line; use password-env, password-file, login-path or option-file",
                    origin: .flag
                ))
                continue
            }
            guard ConfigurationSchema.field(for: key) != nil else {
                let hint = ConfigurationSchema.suggestion(for: key).map { " (did you mean \($0)?)" } ?? ""
                let what = ConfigurationSchema.isSection(key.segments) ? "is a section, not a field" : "unknown key"
                issues.append(ConfigurationIssue(field: name, what + hint, origin: .flag))
                continue
            }
            if key.segments.count > 2, key.segments[0] == "proxysql", key.segments[1] == "nodes",
                let problem = NodeName.problem(key.segments[2])
            {
                issues.append(ConfigurationIssue(field: name, problem, origin: .flag))
                continue
            }
            layer.set(key, value(text, for: key, origin: .flag))
        }
        return (layer, issues)
    }

    private static func value(_ text: String, for key: ConfigurationKey, origin: ValueOrigin) -> RawValue {
        if ConfigurationSchema.field(for: key)?.kind == .list {
            return RawValue(content: .list(splitList(text)), origin: origin)
        }
        return RawValue(content: .scalar(text), origin: origin)
    }
}
