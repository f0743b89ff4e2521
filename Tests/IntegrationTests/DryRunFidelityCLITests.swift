import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Testing

extension FaultTests {
    /// The dry run's promise, through the built `migrate-cli` on each server kind (#12): `cutover writers --dry-run`
    /// reads what the servers are (MySQL 9.7 or MariaDB) and prints the statements; `cutover writers --yes` on the
    /// same pair journals what it sent. Modulo values (literals, numbers, placeholders), the changes agree in order
    /// per endpoint, the reads agree as sets, and on MySQL no statement the server removed is planned or sent.
    @Suite("Dry run fidelity through migrate-cli", .faultBed(kinds: FaultBed.kinds))
    struct DryRunFidelityCLI {
        /// A statement with its values taken out: string literals, numbers and `<placeholders>` become `?`,
        /// whitespace runs one space.
        static func shape(_ statement: String) -> String {
            var out = ""
            var characters = statement[...]
            while let character = characters.first {
                if character == "'" || character == "\"" {
                    // A quoted literal (a doubled quote inside it is part of it).
                    characters = characters.dropFirst()
                    while let next = characters.first {
                        characters = characters.dropFirst()
                        if next == character {
                            if characters.first == character { characters = characters.dropFirst() } else { break }
                        } else if next == "\\" {
                            characters = characters.dropFirst()
                        }
                    }
                    out += "?"
                } else if character == "<", let end = characters.firstIndex(of: ">") {
                    characters = characters[characters.index(after: end)...]
                    out += "?"
                } else if character.isNumber, !(out.last.map { $0.isLetter || $0 == "_" || $0.isNumber } ?? false) {
                    characters = characters.drop { $0.isNumber || $0 == "." }
                    out += "?"
                } else if character.isWhitespace {
                    characters = characters.drop { $0.isWhitespace }
                    if out.last != " " { out += " " }
                } else {
                    out.append(character)
                    characters = characters.dropFirst()
                }
            }
            return out.trimmingCharacters(in: .whitespaces)
        }

        struct Planned: Equatable, CustomStringConvertible {
            var endpoint: String
            var shape: String
            var changes: Bool
            var oncePerRow: Bool
            var description: String { "[\(endpoint)] \(shape)" + (oncePerRow ? " (per row)" : "") }
        }

        /// Whether `live` is `planned` with each per-row statement taken any number of times and every other
        /// statement exactly once, in order.
        static func aligns(_ planned: ArraySlice<Planned>, _ live: ArraySlice<String>) -> Bool {
            guard let first = planned.first else { return live.isEmpty }
            if first.oncePerRow {
                if aligns(planned.dropFirst(), live) { return true }
                guard live.first == first.shape else { return false }
                return aligns(planned, live.dropFirst())
            }
            guard live.first == first.shape else { return false }
            return aligns(planned.dropFirst(), live.dropFirst())
        }

        /// Spellings MySQL 8.4 / 9.7 removed (they answer 1064 or 1305 there).
        static let removedOnMySQL = [
            "SHOW SLAVE", "SHOW MASTER", "CHANGE MASTER", "START SLAVE", "STOP SLAVE", "RESET SLAVE", "RESET MASTER",
            "MASTER_POS_WAIT", "WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS",
        ]

        @Test(
            "cutover writers --dry-run prints the statements the live run sends (modulo values), per endpoint",
            arguments: FaultBed.kinds)
        func dryRunMatchesLiveRun(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }

            let dry = try await MigrateBinary.run(
                workspace.arguments(journal: workspace.journalPath("dry"), ["cutover", "writers", "--dry-run", "--json"]),
                in: workspace.directory)
            try #require(dry.code == 0, "dry run: \(dry)")
            let assumptions = dry.objects.filter { $0["event"] as? String == "plan-assumption" }
            #expect(assumptions.isEmpty, "the dry run assumed instead of reading: \(assumptions)")
            let planned: [Planned] = dry.objects.filter { $0["event"] as? String == "plan-step" }.flatMap { step in
                (step["statements"] as? [[String: Any]] ?? []).map {
                    Planned(
                        endpoint: $0["endpoint"] as? String ?? "?", shape: Self.shape($0["statement"] as? String ?? ""),
                        changes: $0["changes"] as? Bool ?? false, oncePerRow: $0["once_per_row"] as? Bool ?? false)
                }
            }
            try #require(!planned.isEmpty, "no statements in the plan: \(dry)")

            let journal = workspace.journalPath("live")
            let live = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["cutover", "writers", "--yes", "--json"]),
                in: workspace.directory, deadline: .seconds(120))
            #expect(live.code == 0, "live run: \(live)")
            let journaled = try CutoverJournal.read(path: journal).flatMap { $0.statements ?? [] }
            try #require(!journaled.isEmpty, "the live run journaled no statement")

            // The guards' login with the reverse account (ADR 0017): in the plan, and in the journal with its outcome
            // (#12); the password in neither.
            let logins = journaled.filter { $0.endpoint.hasPrefix("replication login") }
            #expect(logins.count == 1, "\(server): \(logins)")
            #expect(logins.first?.outcome?.hasPrefix("logged in; grants: ") == true, "\(server): \(logins)")
            #expect(planned.contains { $0.endpoint == logins.first?.endpoint && $0.shape == "SHOW GRANTS" }, "\(server)")
            #expect(!(try String(contentsOfFile: journal, encoding: .utf8)).contains(bed.rehearsal.reverseReplicationPassword))
            let endpoints = Set(planned.map(\.endpoint)).union(journaled.map(\.endpoint))
            for endpoint in endpoints.sorted() {
                let plannedHere = planned.filter { $0.endpoint == endpoint }
                let sent = journaled.filter { $0.endpoint == endpoint }.map { Self.shape($0.statement) }
                let plannedChanges = plannedHere.filter(\.changes)
                let sentChanges = sent.filter { PlannedStatement.isChange($0) }
                #expect(
                    Self.aligns(plannedChanges[...], sentChanges[...]),
                    "\(server) \(endpoint): changes differ\nsent:\n\(sentChanges.joined(separator: "\n"))\nplanned:\n\(plannedChanges.map(\.shape).joined(separator: "\n"))"
                )
                let plannedReads = Set(plannedHere.filter { !$0.changes }.map(\.shape))
                let sentReads = Set(sent.filter { !PlannedStatement.isChange($0) })
                #expect(
                    plannedReads == sentReads,
                    "\(server) \(endpoint): reads differ\nsent, not planned:\n\(sentReads.subtracting(plannedReads).sorted().joined(separator: "\n"))\nplanned, not sent:\n\(plannedReads.subtracting(sentReads).sorted().joined(separator: "\n"))"
                )
                // The comparison has teeth: without any one of its fixed changes the plan no longer aligns.
                for index in plannedChanges.indices where !plannedChanges[index].oncePerRow {
                    var shorter = plannedChanges
                    shorter.remove(at: index)
                    #expect(
                        !Self.aligns(shorter[...], sentChanges[...]),
                        "\(endpoint): aligns without \(plannedChanges[index])")
                }
            }
            if server == .mysql {
                let databaseStatements =
                    planned.filter { $0.endpoint == "source" || $0.endpoint == "target" }.map(\.shape)
                    + journaled.filter { $0.endpoint == "source" || $0.endpoint == "target" }.map(\.statement)
                let removed = databaseStatements.filter { statement in
                    Self.removedOnMySQL.contains { statement.uppercased().contains($0) }
                }
                #expect(removed.isEmpty, "spellings MySQL 9.7 removed: \(removed)")
                // MySQL's own spellings, not a MariaDB plan that happens to align: the fence is super_read_only.
                #expect(
                    planned.contains { $0.endpoint == "source" && $0.shape.contains("super_read_only") },
                    "no super_read_only in the source's plan")
            }

            let back = try await MigrateBinary.run(
                workspace.arguments(journal: workspace.journalPath("back"), ["failback", "writers", "--yes"]),
                in: workspace.directory, deadline: .seconds(120))
            #expect(back.code == 0, "failback: \(back)")
            try await bed.waitForReplica(bed.target, of: bed.source)
            try await bed.expectStartingState("after failback")
        }
    }
}
