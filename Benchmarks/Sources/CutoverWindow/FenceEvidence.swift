import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import MariaDB

/// What a run that stopped leaves behind for its investigation (issue #18: a failback stopped by the fence proof with
/// one transaction on the old writer after its final position): the servers' process lists and GTID state at the
/// stop (while the load still runs), their binary logs decoded from the final position (which thread wrote what,
/// when), and the write load's ledger with times relative to the stopped run's window. Written only with
/// `--evidence-directory`; nothing here changes what the benchmark measures.
enum FenceEvidence {
    /// Reads the process lists and GTID state of both servers and decodes the old writer's binary log from the final
    /// position, into `directory/run-N/`. Called while the load still runs. Errors are written, never thrown.
    static func captureServers(rehearsal: Rehearsal, record: RunRecord, finalPosition: ReplicationCoordinate?, directory: String) async {
        let runDirectory = "\(directory)/run-\(record.index + 1)"
        try? FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        var summary = "run \(record.index + 1) \(record.operation): \(record.outcome)\n"
        summary += "final position: \(finalPosition.map { "\($0)" } ?? "-")\n"
        for (name, server) in [("source", rehearsal.source), ("aurora", rehearsal.target)] {
            var text = ""
            do {
                let connection = try await server.connectAsRoot()
                defer { Task { await connection.close() } }
                // MySQL 9.7 has neither of MariaDB's GTID positions (1193): its executed set and super_read_only.
                let state: SQLStatement =
                    server.kind == .mysql
                    ? "SELECT @@server_id, @@gtid_executed, @@read_only, @@super_read_only"
                    : "SELECT @@server_id, @@gtid_binlog_pos, @@gtid_current_pos, @@read_only"
                for statement: SQLStatement in [
                    state,
                    "SHOW BINARY LOGS",
                    "SELECT ID, USER, HOST, DB, COMMAND, TIME_MS, STATE, INFO FROM information_schema.PROCESSLIST ORDER BY ID",
                ] {
                    text += "## \(statement.redacted)\n"
                    for row in try await connection.query(statement, timeout: .seconds(10)) {
                        text += (0..<row.count).map { row[$0].string ?? "NULL" }.joined(separator: "\t") + "\n"
                    }
                }
            } catch {
                text += "error: \(error)\n"
            }
            write(text, to: "\(runDirectory)/\(name)-state.txt")
            // The binary logs from the final position's file on (the old writer's), every file of the other.
            let data = server.dataDirectory
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: data)) ?? [])
                .filter { $0.range(of: #"\.[0-9]{6}$"#, options: .regularExpression) != nil }.sorted()
            var decoded = ""
            // The old writer's binary log from the final position on (the new writer's is the whole load: left out).
            let oldWriter = record.operation == .writerFailback ? "aurora" : "source"
            if name == oldWriter, let finalPosition {
                for file in files where file >= finalPosition.file {
                    var arguments = ["-vv", "--base64-output=decode-rows"]
                    if file == finalPosition.file { arguments.append("--start-position=\(finalPosition.offset)") }
                    decoded += "#### \(file) \(arguments.joined(separator: " "))\n"
                    decoded += run(binlogDecoder(for: server), arguments + ["\(data)/\(file)"])
                }
            }
            if !decoded.isEmpty { write(decoded, to: "\(runDirectory)/\(name)-binlog.txt") }
        }
        write(summary, to: "\(runDirectory)/summary.txt")
    }

    /// The binary-log decoder of `server`'s kind: MariaDB's, or the installed MySQL distribution's `mysqlbinlog`.
    static func binlogDecoder(for server: SandboxServer) -> String {
        guard server.kind == .mysql, let installation = try? MySQLDistribution.locate() else {
            return "/usr/bin/mariadb-binlog"
        }
        return "\(installation.directory)/bin/mysqlbinlog"
    }

    /// Writes every write of the load: client, shape, sequence, write id, sent and outcome as milliseconds from the
    /// stopped run's window opening (negative before it), outcome kind and error number.
    static func writeLedger(report: WriteLoadReport, record: RunRecord, directory: String) {
        let origin = record.windowOpened ?? record.started
        func ms(_ instant: ContinuousClock.Instant) -> String { String(format: "%.3f", (instant - origin).inMilliseconds) }
        var lines = ["client\tshape\tsequence\twrite_id\trows\tsent_ms\toutcome_ms\toutcome\terror"]
        for write in report.records {
            let shape = report.shapes.isEmpty ? "-" : "\(report.shapes[write.client % report.shapes.count])"
            let kind: String
            switch write.outcome {
            case .acknowledged: kind = "acknowledged"
            case .failed: kind = "failed"
            case .ambiguous: kind = "ambiguous"
            }
            lines.append(
                "\(write.client)\t\(shape)\t\(write.sequence)\t\(write.firstWriteID)\t\(write.rowCount)\t\(ms(write.sentAt))\t"
                    + "\(ms(write.outcome.instant))\t\(kind)\t\(write.outcome.error.map { "\($0)" } ?? "")")
        }
        var marks = "window opened 0\n"
        for (name, instant) in [
            ("drained", record.drained), ("final position read", record.finalPositionRead), ("caught up", record.caughtUp),
            ("window closed", record.windowClosed), ("online sent", record.onlineSent), ("ended", Optional(record.ended)),
        ] {
            if let instant { marks += "\(name) \(ms(instant))\n" }
        }
        for statement in record.statements {
            marks += "stmt \(ms(statement.start)) \(ms(statement.end)) \(statement.endpoint) \(statement.text)\n"
        }
        let runDirectory = "\(directory)/run-\(record.index + 1)"
        try? FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        write(lines.joined(separator: "\n") + "\n", to: "\(runDirectory)/ledger.tsv")
        write(marks, to: "\(runDirectory)/statements.txt")
    }

    private static func write(_ text: String, to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    private static func run(_ program: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            return "cannot run \(program): \(error)\n"
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
