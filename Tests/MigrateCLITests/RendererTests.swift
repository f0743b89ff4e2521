import Cutover
import Foundation
import MariaDB
import ProxySQLAdmin
import Testing

@testable import MigrateCLI

/// A writer cut-over's timeline: window 16 ms = drain 4 + fence 6 + catch-up 3 + switch 3.
func sampleTimeline() -> CutoverTimeline {
    var timeline = CutoverTimeline()
    timeline.marks = [
        .windowOpened: .milliseconds(10), .drained: .milliseconds(14), .hardOffline: .milliseconds(16),
        .finalPositionRead: .milliseconds(20), .caughtUp: .milliseconds(23), .windowClosed: .milliseconds(26),
    ]
    timeline.finalPosition = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1234)
    timeline.newWriterPosition = ReplicationCoordinate(file: "mysql-bin-changelog.000001", offset: 99)
    timeline.sessionsCut = 2
    timeline.finished = true
    return timeline
}

let holder = SessionHolder(sessionID: 42, user: "app", clientAddress: "10.1.0.7:51234", command: "Sleep", timeMilliseconds: 830, reason: "open transaction")

/// One of each event, in a plausible order.
func sampleEvents(outcome: CutoverOutcome = .completed) -> [CutoverProgress] {
    [
        .runStarted(runID: "20261121T000000Z-1a2b", operation: .writerCutover),
        .stepStarted(step: "guards", action: "check guards for writer-cutover", at: .milliseconds(1)),
        .stepFinished(step: "guards", outcome: "guards passed", at: .milliseconds(5)),
        .stepStarted(step: "drainOld", action: "drain source writer (deadline 0.5 seconds)", at: .milliseconds(10)),
        .drainProgress(server: .writer(.source), connectionsUsed: 1, holders: [holder], at: .milliseconds(11)),
        .catchUpProgress(role: .target, executed: ReplicationCoordinate(file: "mysql-bin.000003", offset: 1000), target: ReplicationCoordinate(file: "mysql-bin.000003", offset: 1234), at: .milliseconds(21)),
        .pointOfNoReturnPassed(at: .milliseconds(26)),
        .rollbackStarted(reason: "catch-up timed out", at: .milliseconds(27)),
        .shutdownRequested(at: .milliseconds(28)),
        .note("resuming run x at step catchUp"),
        .runFinished(outcome: outcome, timeline: sampleTimeline()),
    ]
}

@Suite("Renderers")
struct RendererTests {
    @Test("--json: every event is exactly one line of JSON, starting with \"event\"")
    func jsonLines() throws {
        var renderer = JSONProgressRenderer(context: RunContext(journalPath: "/var/lib/migrate/j.jsonl"))
        let events = sampleEvents()
        var names: [String] = []
        for event in events {
            let text = renderer.render(event)
            #expect(text.hasSuffix("\n"))
            #expect(text.dropLast().contains("\n") == false)
            #expect(text.hasPrefix("{\"event\":"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            names.append(try #require(object["event"] as? String))
        }
        #expect(names == [
            "run-started", "step-started", "step-finished", "step-started", "drain-progress", "catch-up-progress",
            "point-of-no-return", "rollback-started", "shutdown-requested", "note", "run-finished",
        ])
    }

    @Test("--json: run-finished carries the outcome, exit code, next command and the timeline in milliseconds")
    func jsonFinished() throws {
        var renderer = JSONProgressRenderer(context: RunContext(resumeCommand: "migrate-cli resume --config m.yaml"))
        let outcome = CutoverOutcome.stoppedAfterPointOfNoReturn(reason: "shutdown requested", failures: [], remainingSteps: ["saveProxy"])
        let text = renderer.render(.runFinished(outcome: outcome, timeline: sampleTimeline()))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["outcome"] as? String == "stopped-after-point-of-no-return")
        #expect(object["exit_code"] as? Int == 5)
        #expect(object["next"] as? String == "migrate-cli resume --config m.yaml")
        let timeline = try #require(object["timeline"] as? [String: Any])
        #expect(timeline["window_ms"] as? Double == 16)
        #expect(timeline["drain_ms"] as? Double == 4)
        #expect(timeline["fence_ms"] as? Double == 6)
        #expect(timeline["catch_up_ms"] as? Double == 3)
        #expect(timeline["switch_ms"] as? Double == 3)
        #expect(timeline["sessions_cut"] as? Int == 2)
    }

    @Test("JSON strings escape quotes, backslashes and control characters")
    func jsonEscaping() throws {
        let value = JSONValue.object([("event", "note"), ("message", .string("a\"b\\c\nd\u{01}é"))])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(value.serialized.utf8)) as? [String: String])
        #expect(object["message"] == "a\"b\\c\nd\u{01}é")
        #expect(!value.serialized.contains("\n"))
    }

    @Test("human: a line per step, the final table with window, drain, fence, catch-up and switch, no colour when plain")
    func humanPlain() {
        var renderer = HumanProgressRenderer(style: .plain, context: RunContext(journalPath: "/j.jsonl"))
        let text = sampleEvents().map { renderer.render($0) }.joined() + renderer.finish()
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("writer-cutover 20261121T000000Z-1a2b started (journal /j.jsonl)"))
        #expect(text.contains("check guards for writer-cutover ..."))
        #expect(text.contains("ok guards passed"))
        #expect(text.contains("draining source writer: 1 connection in use, held by session 42 (app, open transaction)"))
        #expect(text.contains("target catching up: executed mysql-bin.000003:1000 of mysql-bin.000003:1234"))
        #expect(text.contains("point of no return passed"))
        #expect(text.contains("completed."))
        for (phase, value) in [("write window", "16 ms"), ("drain", "4 ms"), ("fence", "6 ms"), ("catch-up", "3 ms"), ("switch", "3 ms")] {
            #expect(text.split(separator: "\n").contains { $0.contains(phase) && $0.contains(value) }, "\(phase) \(value)")
        }
        #expect(text.contains("final position of the old writer: mysql-bin.000003:1234"))
        #expect(text.contains("2 application session(s) cut"))
    }

    @Test("the work left to the operator (the old writer's option-file lines) ends the summary, in both renderers")
    func followUps() throws {
        var timeline = sampleTimeline()
        let durability = ReadOnlyDurability(
            database: "source (10.0.0.5:3306)", readOnly: true, persisted: false,
            optionFileLines: ["read_only = ON", "replicate_wild_ignore_table = mysql.rds\\_%"])
        timeline.followUps = [try #require(durability.followUp)]
        var human = HumanProgressRenderer(style: .plain)
        _ = human.render(.runStarted(runID: "r", operation: .writerCutover))
        let text = human.render(.runFinished(outcome: .completed, timeline: timeline))
        #expect(text.contains("To do by hand:"))
        #expect(text.contains("add to the [mysqld] section of its option file: `read_only = ON`, `replicate_wild_ignore_table = mysql.rds\\_%`"), "\(text)")
        var json = JSONProgressRenderer()
        let line = json.render(.runFinished(outcome: .completed, timeline: timeline))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let rendered = try #require(object["timeline"] as? [String: Any])
        #expect(rendered["follow_ups"] as? [String] == timeline.followUps)
        // A reader switch's point of no return does not speak of writers.
        var reader = HumanProgressRenderer(style: .plain)
        _ = reader.render(.runStarted(runID: "r", operation: .readerCutover))
        #expect(reader.render(.pointOfNoReturnPassed(at: .milliseconds(3))).contains("the new reader serves alone"))
    }

    @Test("the watch after the new writer's ONLINE (#14 item 8): a fact line in the human summary, new_writer_watch in the JSON timeline, the follow-up when it stayed SHUNNED")
    func newWriterWatch() throws {
        var timeline = sampleTimeline()
        var watch = ShunnedWriterWatch()
        watch.reads = 14
        watch.watched = .milliseconds(700)
        watch.shunnedOn = ["p1", "p2"]
        watch.stillShunned = ["p2"]
        watch.probes = [false, true]
        watch.reloads = [.init(nodes: ["p1"], at: .milliseconds(640), failures: ["p2": "timeout"])]
        watch.left = "the new writer still refuses connections"
        timeline.newWriterWatch = watch
        timeline.followUps = [try #require(ShunnedWriterRecovery.followUp(watch))]
        var human = HumanProgressRenderer(style: .plain)
        _ = human.render(.runStarted(runID: "r", operation: .writerCutover))
        let text = human.render(.runFinished(outcome: .completed, timeline: timeline))
        #expect(text.contains("after the ONLINE (not part of the window): new writer SHUNNED on p1, p2"), "\(text)")
        #expect(text.contains("re-loaded 1 time(s) (p1)") && text.contains("14 read(s) in 700.0 ms"), "\(text)")
        #expect(text.contains("still SHUNNED on p2 when the watch after its ONLINE ended"), "\(text)")
        var json = JSONProgressRenderer()
        let line = json.render(.runFinished(outcome: .completed, timeline: timeline))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let rendered = try #require((object["timeline"] as? [String: Any])?["new_writer_watch"] as? [String: Any])
        #expect(rendered["reads"] as? Int == 14)
        #expect(rendered["watched_ms"] as? Double == 700)
        #expect(rendered["shunned_on"] as? [String] == ["p1", "p2"])
        #expect(rendered["still_shunned"] as? [String] == ["p2"])
        #expect(rendered["logins_accepted"] as? Int == 1 && rendered["logins_refused"] as? Int == 1)
        let reload = try #require((rendered["reloads"] as? [[String: Any]])?.first)
        #expect(reload["nodes"] as? [String] == ["p1"])
        #expect(reload["at_ms"] as? Double == 640)
        #expect((reload["failures"] as? [String: String]) == ["p2": "timeout"])
        // No watch (a journal before it, a reader switch): null.
        var without = JSONProgressRenderer()
        let plain = without.render(.runFinished(outcome: .completed, timeline: sampleTimeline()))
        let plainObject = try #require(try JSONSerialization.jsonObject(with: Data(plain.utf8)) as? [String: Any])
        #expect((plainObject["timeline"] as? [String: Any])?["new_writer_watch"] is NSNull)
    }

    @Test("human: colours on a terminal, and wait progress rewrites one line")
    func humanTerminal() {
        var renderer = HumanProgressRenderer(style: TerminalStyle(colors: true, interactive: true))
        let first = renderer.render(.drainProgress(server: .writer(.source), connectionsUsed: 3, holders: [], at: .milliseconds(2)))
        let second = renderer.render(.drainProgress(server: .writer(.source), connectionsUsed: 2, holders: [], at: .milliseconds(4)))
        #expect(first.hasPrefix("\r\u{1B}[2K") && !first.hasSuffix("\n"))
        #expect(second.hasPrefix("\r\u{1B}[2K"))
        let finished = renderer.render(.stepFinished(step: "drainOld", outcome: "source writer drained", at: .milliseconds(5)))
        #expect(finished.hasPrefix("\n"))
        #expect(finished.contains("\u{1B}[32m"))
    }

    @Test("human, not a terminal: a 2 ms poll prints a line only when the value changes or every 250 ms")
    func humanThrottle() {
        var renderer = HumanProgressRenderer(style: .plain)
        var lines = 0
        for millisecond in stride(from: 0, to: 1000, by: 2) {
            let used = millisecond < 500 ? 2 : 1
            let text = renderer.render(.drainProgress(server: .writer(.source), connectionsUsed: used, holders: [], at: .milliseconds(millisecond)))
            if !text.isEmpty { lines += 1 }
        }
        // 0, 250 (2 in use), 500 (change to 1), 750: four lines for 500 polls.
        #expect(lines == 4)
    }

    @Test("--json: the same throttle at 100 ms")
    func jsonThrottle() {
        var renderer = JSONProgressRenderer()
        let lines = stride(from: 0, to: 1000, by: 2).filter { millisecond in
            !renderer.render(.drainProgress(server: .writer(.source), connectionsUsed: 1, holders: [], at: .milliseconds(millisecond))).isEmpty
        }.count
        #expect(lines == 10)
    }

    @Test("outcomes tell the operator what happened and what to do", arguments: [
        (CutoverOutcome.refused([BlockingReason(check: "replication.lag", message: "lag 12 s", remedy: "wait")]), ["refused by the guards", "replication.lag: lag 12 s", "fix: wait"]),
        (.rolledBack(reason: "drain deadline passed", failures: []), ["rolled back: drain deadline passed", "starting routing is restored"]),
        (.rolledBack(reason: "x", failures: [StepFailure(step: "rollback.onlineOld", message: "timeout", endpoint: "proxysql-1")]), ["rollback did not complete", "rollback.onlineOld failed on proxysql-1", "migrate-cli status"]),
        (.stoppedAfterPointOfNoReturn(reason: "shutdown requested", failures: [], remainingSteps: ["startReverseReplication"]), ["Finish it with: migrate-cli resume --config m.yaml", "startReverseReplication"]),
    ])
    func summaries(_ outcome: CutoverOutcome, _ fragments: [String]) {
        let text = HumanProgressRenderer.summary(outcome: outcome, operation: .writerCutover, runID: "r1", context: RunContext(resumeCommand: "migrate-cli resume --config m.yaml"), style: .plain)
        for fragment in fragments { #expect(text.contains(fragment), "\(fragment) in \(text)") }
    }

    @Test("a reader switch's table has no fence, catch-up or switch rows")
    func readerTable() {
        let text = HumanProgressRenderer.timelineTable(sampleTimeline(), operation: .readerCutover)
        #expect(text.contains("  read switch     16 ms"))
        for phase in ["write window", "fence", "catch-up", "switch "] {
            #expect(!text.split(separator: "\n").contains { $0.hasPrefix("  \(phase)") }, "\(phase)")
        }
    }

    @Test("tables align columns")
    func table() {
        let text = TextTable(headers: ["a", "duration"], rows: [["long name", "1 ms"], ["x", "10.5 ms"]], rightAligned: [1]).render(indent: "")
        #expect(text == "a          duration\n---------  --------\nlong name      1 ms\nx           10.5 ms")
    }

    @Test("command reports: blocking reasons make exit code 2, JSON rows are keyed by header")
    func reports() throws {
        let report = CommandReport(
            command: "preflight",
            sections: [.init(title: "Rows", headers: ["node", "status"], rows: [["proxysql-1", "ONLINE"]])],
            blockingReasons: [BlockingReason(check: "proxysql.rows", message: "target writer row missing on proxysql-1", remedy: "INSERT it OFFLINE_HARD")]
        )
        #expect(report.exitStatus == .refused)
        #expect(report.human(style: .plain).contains("proxysql.rows: target writer row missing on proxysql-1"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.serialized.utf8)) as? [String: Any])
        let sections = try #require(object["sections"] as? [[String: Any]])
        #expect((sections.first?["rows"] as? [[String: String]])?.first?["status"] == "ONLINE")
        #expect(object["exit_code"] as? Int == 2)
    }
}

@Suite("Exit codes")
struct ExitStatusTests {
    @Test("codes are distinct and documented")
    func distinct() {
        #expect(Set(ExitStatus.all.map(\.code)).count == ExitStatus.all.count)
        #expect(ExitStatus.all.allSatisfy { $0.short.count <= 72 })
        for status in ExitStatus.all { #expect(ExitStatus.helpText.contains(status.short)) }
    }

    @Test("outcomes map to codes", arguments: [
        (CutoverOutcome.completed, false, Int32(0)),
        (.refused([]), false, 2),
        (.rolledBack(reason: "x", failures: []), false, 3),
        (.rolledBack(reason: "shutdown requested", failures: []), true, 130),
        (.rolledBack(reason: "x", failures: [StepFailure(step: "s", message: "m")]), true, 4),
        (.stoppedAfterPointOfNoReturn(reason: "x", failures: [], remainingSteps: []), false, 5),
        (.stoppedAfterPointOfNoReturn(reason: "shutdown requested", failures: [], remainingSteps: []), true, 5),
    ])
    func outcomes(_ outcome: CutoverOutcome, _ interrupted: Bool, _ code: Int32) {
        #expect(ExitStatus.of(outcome, interrupted: interrupted).code == code)
    }

    @Test("errors map to codes")
    func errors() {
        let cases: [(any Error, Int32)] = [
            (ConfigurationError(code: .invalid, field: "source.port", "bad"), 78),
            (ConfigurationError(code: .fileExists, field: "m.yaml", "exists"), 2),
            (EndpointUnavailable(endpoint: .proxyNode("p1"), address: "10.0.0.10:6032", underlying: MariaDBError(code: .connectionFailed, message: "refused")), 69),
            (EndpointUnavailable(endpoint: .source, address: "10.0.0.5:3306", underlying: MariaDBError(code: .server, serverErrorNumber: 1064, message: "syntax")), 1),
            (OperatorDeclined(description: "no"), 2),
            (CutoverError(code: .journalLocked, message: "locked"), 75),
            (CutoverError(code: .nothingToResume, message: "none"), 2),
            (CutoverError(code: .journalMismatch, message: "other topology"), 78),
            (CutoverError(code: .journalUnreadable, message: "io"), 1),
            (MariaDBError(code: .connectionFailed, message: "refused"), 69),
            (MariaDBError(code: .server, serverErrorNumber: 1045, message: "Access denied"), 69),
            (MariaDBError(code: .server, serverErrorNumber: 1064, message: "syntax"), 1),
            (MariaDBError(code: .loginPath, message: "no such login path"), 78),
            (MariaDBError(code: .cancelled), 130),
            (ProxySQLAdminError(code: .accessDenied, node: "proxysql-1", message: "denied"), 69),
            (ProxySQLAdminError(code: .verificationFailed, node: "proxysql-1", message: "differs"), 1),
            (CancellationError(), 130),
        ]
        for (error, code) in cases {
            #expect(ExitStatus.of(error).status.code == code, "\(error)")
        }
    }
}
