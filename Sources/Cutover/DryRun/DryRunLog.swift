import Foundation
import MariaDB
import Synchronization

/// Where the parts of a dry run record what they would send, in order. Each statement is rendered for its
/// endpoint's dialect with secrets hidden, and also handed, redacted, to the task's ``StatementRecorder`` (so a
/// dry run's step results look like a live run's journal).
final class DryRunLog: Sendable {
    struct Entry: Sendable {
        var sequence: Int
        var statement: PlannedStatement
    }

    /// Values a dry run makes up for what only a live run can know, and the placeholders shown instead.
    static let placeholders: [(sentinel: String, placeholder: String)] = [
        ("'\(DryRunSentinel.mariaDBGTID(.source))'", "<source GTID position>"),
        ("'\(DryRunSentinel.mariaDBGTID(.target))'", "<target GTID position>"),
        (DryRunSentinel.mariaDBGTID(.source), "<source GTID position>"),
        (DryRunSentinel.mariaDBGTID(.target), "<target GTID position>"),
        ("'\(DryRunSentinel.file(.source))'", "<source binlog file>"),
        ("'\(DryRunSentinel.file(.target))'", "<target binlog file>"),
        (String(DryRunSentinel.offset(.source)), "<source binlog offset>"),
        (String(DryRunSentinel.offset(.target)), "<target binlog offset>"),
        (String(DryRunSentinel.proxySQLSessionID), "<SessionID>"),
        (String(DryRunSentinel.connectionID), "<id>"),
        (DryRunSentinel.file(.source), "<source binlog file>"),
        (DryRunSentinel.file(.target), "<target binlog file>"),
    ]

    /// `text` (an action's or outcome's description) with the made-up values replaced by their placeholders.
    static func describing(_ text: String) -> String {
        var text = text
        for (sentinel, placeholder) in placeholders { text = text.replacingOccurrences(of: sentinel, with: placeholder) }
        return text
    }

    private let entries = Mutex<[Entry]>([])

    /// Records `statement` as sent to `endpoint` (a server of `dialect`).
    func record(_ statement: SQLStatement, endpoint: String, dialect: SQLDialect, repeatsPerRow: Bool = false) {
        var text = statement.renderedHidingSecrets(for: dialect)
        var redacted = statement.redacted
        for (sentinel, placeholder) in Self.placeholders {
            text = text.replacingOccurrences(of: sentinel, with: placeholder)
            redacted = redacted.replacingOccurrences(of: sentinel, with: placeholder)
        }
        StatementRecorder.current?.record(endpoint: endpoint, statement: redacted)
        entries.withLock { entries in
            entries.append(
                Entry(
                    sequence: entries.count,
                    statement: PlannedStatement(
                        endpoint: endpoint, text: text, redacted: redacted, repeatsPerRow: repeatsPerRow)
                )
            )
        }
    }

    /// Records a line of the plan that is not a statement of a session (the replication login probe), without handing
    /// it to the ``StatementRecorder`` (its caller journals it with its outcome).
    func recordPlanned(_ statement: PlannedStatement) {
        entries.withLock { entries in
            entries.append(Entry(sequence: entries.count, statement: statement))
        }
    }

    /// How many statements were recorded so far.
    var count: Int { entries.withLock { $0.count } }

    /// The statements recorded since `start`.
    func statements(since start: Int) -> [PlannedStatement] {
        entries.withLock { Array($0[start...]).map(\.statement) }
    }
}

/// The made-up values of a dry run, chosen so they cannot be mistaken for real ones.
enum DryRunSentinel {
    static func file(_ role: DatabaseRole) -> String { "zz-dry-run-\(role).999999" }
    static func offset(_ role: DatabaseRole) -> UInt64 { role == .source ? 999_999_101 : 999_999_202 }
    static func coordinate(_ role: DatabaseRole) -> ReplicationCoordinate {
        ReplicationCoordinate(file: file(role), offset: offset(role))
    }
    /// A MariaDB GTID position standing for the one a live run reads.
    static func mariaDBGTID(_ role: DatabaseRole) -> String { role == .source ? "999999-1-999999505" : "999999-2-999999606" }
    static let proxySQLSessionID: UInt64 = 999_999_999_303
    static let connectionID: UInt64 = 999_999_999_404
}
