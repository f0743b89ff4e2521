import Foundation
import Synchronization

/// One `stats_mysql_query_digest` key: ProxySQL groups statements by hostgroup, schema, user, client address (empty
/// unless `mysql-query_digests_track_hostname` is on, its default being off) and digest.
struct DigestKey: Hashable, Sendable {
    var hostgroup: Int
    var schema: String
    var user: String
    var digestText: String
}

/// The counters of one digest.
struct DigestStats: Sendable {
    var count = 0
    var firstSeen: Int
    var lastSeen: Int
    var sumTimeMicroseconds: Int = 0
    var minTimeMicroseconds: Int = .max
    var maxTimeMicroseconds: Int = 0
}

extension DataPlane {
    /// Counts one statement in `stats_mysql_query_digest` (every COM_QUERY, as ProxySQL does with
    /// `mysql-query_digests` on, its default).
    /// `digestText` is ``QueryDigest/text(of:)`` of the statement.
    func recordDigest(hostgroup: Int, schema: String?, user: String, digestText text: String, duration: Duration) {
        guard !text.isEmpty else { return }
        let key = DigestKey(hostgroup: hostgroup, schema: schema ?? "", user: user, digestText: text)
        let now = Int(Date().timeIntervalSince1970)
        let micros = max(0, Int(duration / .microseconds(1)))
        state.withLock { state in
            var stats = state.digests[key] ?? DigestStats(firstSeen: now, lastSeen: now)
            stats.count += 1
            stats.lastSeen = now
            stats.sumTimeMicroseconds += micros
            stats.minTimeMicroseconds = min(stats.minTimeMicroseconds, micros)
            stats.maxTimeMicroseconds = max(stats.maxTimeMicroseconds, micros)
            state.digests[key] = stats
        }
    }

    /// The digests, in a stable order; `reset` empties them afterwards (`stats_mysql_query_digest_reset`).
    func digestRows(reset: Bool) -> [(DigestKey, DigestStats)] {
        state.withLock { state in
            let rows = state.digests.sorted {
                ($0.key.hostgroup, $0.key.schema, $0.key.user, $0.key.digestText)
                    < ($1.key.hostgroup, $1.key.schema, $1.key.user, $1.key.digestText)
            }
            if reset { state.digests.removeAll() }
            return rows.map { ($0.key, $0.value) }
        }
    }

    /// Turns on ProxySQL's late `ConnUsed` (see ``DataPlane/poolRows()``): every `every`-th release is still
    /// counted by one more poll. 0 turns it off.
    func setLateConnUsed(every: Int) {
        state.withLock { $0.lateConnUsedEvery = max(0, every) }
    }
}

/// ProxySQL's query digest text: comments dropped, string and number literals replaced by `?`, runs of whitespace
/// collapsed to one space, the rest as written.
enum QueryDigest {
    static func text(of sql: String) -> String {
        let scalars = Array(sql.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        var pendingSpace = false
        func isWord(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar.value > 0x7F
        }
        func emit(_ piece: String) {
            if pendingSpace, !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(contentsOf: piece.unicodeScalars)
        }
        while index < scalars.count {
            let scalar = scalars[index]
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            switch scalar {
            case " ", "\t", "\n", "\r":
                pendingSpace = true
                index += 1
            case "#":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
                pendingSpace = true
            case "-" where next == "-" && (index + 2 >= scalars.count || [" ", "\t", "\n"].contains(scalars[index + 2])):
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
                pendingSpace = true
            case "/" where next == "*":
                index += 2
                while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
                index = min(scalars.count, index + 2)
                pendingSpace = true
            case "'", "\"":
                index += 1
                while index < scalars.count {
                    if scalars[index] == "\\" { index += 2; continue }
                    if scalars[index] == scalar {
                        if index + 1 < scalars.count, scalars[index + 1] == scalar { index += 2; continue }
                        index += 1
                        break
                    }
                    index += 1
                }
                emit("?")
            default:
                if isWord(scalar) {
                    var word = String.UnicodeScalarView()
                    while index < scalars.count, isWord(scalars[index]) || scalars[index] == "." {
                        word.append(scalars[index])
                        index += 1
                    }
                    let text = String(word)
                    let numeric = text.first.map { ("0"..."9").contains($0) } ?? false
                    let previous = out.last
                    let partOfName = previous == "@" || previous == "`"
                    emit(numeric && !partOfName ? "?" : text)
                } else {
                    emit(String(scalar))
                    index += 1
                }
            }
        }
        return String(out)
    }

    /// ProxySQL shows the digest as `0x` and 16 hexadecimal digits (a 64-bit hash of the digest text); FNV-1a here.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        let hex = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
