import Foundation
import Logging
import Synchronization

/// The only place `LoggingSystem.bootstrap` is called (the library never does): logs go to standard error, as
/// text or, with `--json`, as one JSON object per line.
enum LoggingSetup {
    private static let done = Mutex(false)

    static func bootstrap(level: Logger.Level, json: Bool) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes each log record as a JSON line on standard error.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.line(level: event.level, message: "\(event.message)", label: label, metadata: merged)
        CommandRuntime.writeAll(STDERR_FILENO, line + "\n")
    }

    static func line(level: Logger.Level, message: String, label: String, metadata: Logger.Metadata) -> String {
        var pairs: [(String, JSONValue)] = [
            ("event", "log"), ("time", .string(ISO8601DateFormatter().string(from: Date()))),
            ("level", .string(level.rawValue)), ("label", .string(label)), ("message", .string(message)),
        ]
        for key in metadata.keys.sorted() {
            pairs.append((key, .string("\(metadata[key]!)")))
        }
        return JSONValue.object(pairs).serialized
    }
}
