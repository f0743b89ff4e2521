/// A SQL statement whose literals are kept apart from its text until it is sent.
///
/// Interpolated values become quoted literals, rendered for the dialect of the session that sends the statement
/// (see ``SQLDialect``); only ``StringInterpolation/appendInterpolation(unsafeRaw:)`` inserts text verbatim.
/// Secrets interpolated with `\(secret:)` are sent but never shown: ``redacted`` (used by logs, errors and
/// journals) replaces them, and masks every other string literal too.
///
/// ```swift
/// let statement: SQLStatement = "UPDATE mysql_servers SET status = \(status) WHERE hostname = \(host)"
/// ```
public struct SQLStatement: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible,
    CustomReflectable
{
    /// One piece of a statement.
    @usableFromInline
    enum Fragment: Sendable, Hashable {
        case sql(String)
        case literal(SQLLiteral)
        case identifier(String)
        case secret(String)
    }

    @usableFromInline
    var fragments: [Fragment]

    /// Creates a statement from trusted SQL text, with no literals.
    public init(stringLiteral value: String) {
        fragments = [.sql(value)]
    }

    /// Creates a statement from interpolated text and values.
    public init(stringInterpolation: StringInterpolation) {
        fragments = stringInterpolation.fragments
    }

    /// Creates a statement from SQL text built at run time. The text is sent verbatim: never pass it anything
    /// that came from outside without quoting it first.
    public init(unsafeRaw sql: String) {
        fragments = [.sql(sql)]
    }

    /// The text sent to a server of `dialect`.
    public func rendered(for dialect: SQLDialect) -> String {
        var out = ""
        for fragment in fragments {
            switch fragment {
            case .sql(let text): out += text
            case .literal(let literal): out += literal.rendered(for: dialect)
            case .identifier(let name): out += SQLQuoting.identifier(name, dialect: dialect)
            case .secret(let secret): out += SQLQuoting.stringLiteral(secret, dialect: dialect)
            }
        }
        return out
    }

    /// The text sent to a server of `dialect`, except that secrets read `'<redacted>'`: for dry runs and plans,
    /// which show every other literal as the server would receive it.
    public func renderedHidingSecrets(for dialect: SQLDialect) -> String {
        var out = ""
        for fragment in fragments {
            switch fragment {
            case .sql(let text): out += text
            case .literal(let literal): out += literal.rendered(for: dialect)
            case .identifier(let name): out += SQLQuoting.identifier(name, dialect: dialect)
            case .secret: out += "'<redacted>'"
            }
        }
        return out
    }

    /// The statement with secrets replaced by `'<redacted>'` and other string literals by `'…'`: safe for
    /// logs, errors and journals. Numbers, `NULL` and identifiers stay visible.
    ///
    /// Quoted text inside trusted SQL (``init(unsafeRaw:)``, `\(unsafeRaw:)`) is masked too, in case a caller put
    /// a literal there: `'…'` and `"…"` become `'…'`; backquoted identifiers stay.
    public var redacted: String {
        var out = ""
        // Adjacent trusted fragments are masked together, so that a quote opened in one and closed in another
        // (`'\(unsafeRaw: x)'`) still hides what lies between.
        var trusted = ""
        for fragment in fragments {
            if case .sql(let text) = fragment {
                trusted += text
                continue
            }
            out += Self.maskingQuotedText(trusted)
            trusted = ""
            switch fragment {
            case .sql: break
            case .literal(.string), .literal(.bytes): out += "'…'"
            case .literal(let literal): out += literal.rendered(for: .mysql)
            case .identifier(let name): out += SQLQuoting.identifier(name, dialect: .mysql)
            case .secret: out += "'<redacted>'"
            }
        }
        return out + Self.maskingQuotedText(trusted)
    }

    /// Whether the statement carries a value interpolated with `\(secret:)`.
    public var containsSecret: Bool {
        fragments.contains { if case .secret = $0 { true } else { false } }
    }

    /// The redacted text (see ``redacted``).
    public var description: String { redacted }

    /// A dump shows the redacted text only, never a secret.
    public var customMirror: Mirror {
        Mirror(self, children: ["redacted": redacted], displayStyle: .struct)
    }

    /// `text` with every `'…'` or `"…"` quoted span replaced by `'…'`. A backslash escapes the next character and
    /// a doubled quote stays inside the span, so a span is never cut short (an unterminated one runs to the end).
    static func maskingQuotedText(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") }) else { return text }
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return scalars.next()
        }
        var inBackquote = false
        while let scalar = next() {
            if scalar == "`" { inBackquote.toggle() }
            guard !inBackquote, scalar == "'" || scalar == "\"" else {
                out.append(scalar)
                continue
            }
            let quote = scalar
            while let inner = next() {
                if inner == "\\" {
                    _ = next()
                } else if inner == quote {
                    guard let following = next() else { break }
                    if following != quote {
                        pending = following
                        break
                    }
                }
            }
            out.append(contentsOf: "'…'".unicodeScalars)
        }
        return String(out)
    }

    /// Appends `other` to this statement.
    public static func + (lhs: SQLStatement, rhs: SQLStatement) -> SQLStatement {
        var result = lhs
        result.fragments += rhs.fragments
        return result
    }

    /// Joins statements with `separator` (for example a list of literals with `", "`).
    public static func joined(_ parts: [SQLStatement], separator: String) -> SQLStatement {
        var result = SQLStatement(unsafeRaw: "")
        result.fragments = []
        for (index, part) in parts.enumerated() {
            if index > 0 { result.fragments.append(.sql(separator)) }
            result.fragments += part.fragments
        }
        return result
    }

    /// Builds statements by interpolation; values become literals.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var fragments: [Fragment] = []

        /// Creates an empty interpolation (called by the compiler).
        public init(literalCapacity: Int, interpolationCount: Int) {
            fragments.reserveCapacity(interpolationCount * 2 + 1)
        }

        /// Appends trusted statement text (called by the compiler for the literal parts).
        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { fragments.append(.sql(literal)) }
        }

        /// A string literal.
        public mutating func appendInterpolation(_ value: String) {
            fragments.append(.literal(.string(value)))
        }

        /// A string literal, or `NULL` when `value` is nil.
        public mutating func appendInterpolation(_ value: String?) {
            fragments.append(.literal(value.map(SQLLiteral.string) ?? .null))
        }

        /// An integer literal.
        public mutating func appendInterpolation<T: BinaryInteger>(_ value: T) {
            if let signed = Int64(exactly: value) {
                fragments.append(.literal(.integer(signed)))
            } else if let unsigned = UInt64(exactly: value) {
                fragments.append(.literal(.unsignedInteger(unsigned)))
            } else {
                // Wider than 64 bits (Int128, UInt128): decimal digits, which need no quoting.
                fragments.append(.sql(String(value)))
            }
        }

        /// An integer literal, or `NULL` when `value` is nil.
        public mutating func appendInterpolation<T: BinaryInteger>(_ value: T?) {
            if let value { appendInterpolation(value) } else { fragments.append(.literal(.null)) }
        }

        /// A floating-point literal.
        public mutating func appendInterpolation(_ value: Double) {
            fragments.append(.literal(.double(value)))
        }

        /// Any literal.
        public mutating func appendInterpolation(literal value: SQLLiteral) {
            fragments.append(.literal(value))
        }

        /// A quoted identifier (table, column, schema or user name).
        public mutating func appendInterpolation(identifier name: String) {
            fragments.append(.identifier(name))
        }

        /// A string literal that is sent but never logged or shown (a password).
        public mutating func appendInterpolation(secret value: String) {
            fragments.append(.secret(value))
        }

        /// Another statement, with its own literals kept apart.
        public mutating func appendInterpolation(_ statement: SQLStatement) {
            fragments += statement.fragments
        }

        /// Trusted SQL text inserted verbatim: only for keywords and names this program chose itself.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            fragments.append(.sql(text))
        }
    }
}

/// A literal value inside a ``SQLStatement``.
public enum SQLLiteral: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A string, quoted for the session's dialect.
    case string(String)
    /// A signed integer, written as digits.
    case integer(Int64)
    /// An unsigned integer, written as digits.
    case unsignedInteger(UInt64)
    /// A floating-point number (`NULL` when it is not finite).
    case double(Double)
    /// Bytes, written as a hexadecimal literal.
    case bytes([UInt8])

    /// The literal as text for `dialect`.
    public func rendered(for dialect: SQLDialect) -> String {
        switch self {
        case .null: "NULL"
        case .string(let value): SQLQuoting.stringLiteral(value, dialect: dialect)
        case .integer(let value): String(value)
        case .unsignedInteger(let value): String(value)
        case .double(let value): value.isFinite ? "\(value)" : "NULL"
        case .bytes(let value): SQLQuoting.hexLiteral(value)
        }
    }
}
