/// The journal's own on-disk payloads: what an `action`, `event` or `outcome` field of a ``JournalRecord`` holds.
///
/// They mirror the state machine's ``CutoverAction``, ``CutoverEvent`` and
/// ``CutoverOutcome`` case for case, but their coding is written out here, field name by field name, instead of
/// being synthesized from the machine's Swift declarations: renaming a case or a label of the machine no longer
/// changes the file format silently (the mapping in `JournalPayload+Machine.swift` stops compiling instead). The
/// names are those of format version 1 (`{"setStatus":{"_0":{…},"_1":"ONLINE"}}`: one key naming the case, its
/// fields by label, `_0`, `_1` for unlabelled ones, absent optionals left out), as written since the first release;
/// the committed fixtures `journal-v1-*.jsonl` pin them byte for byte. The values inside (``RoutedServer``,
/// ``ReplicationCoordinate``, ``StepFailure``, a `Duration` as `[seconds, attoseconds]`, …) are the domain's
/// `Codable` structs, whose field names are their property names.
///
/// A payload this version cannot read (a case of another version, a field of the wrong type, an edit) does not make
/// the line unreadable: it decodes as `unreadable`, so `journal show` and `status` still read the journal, and the
/// conversion to the machine's type (``JournalReplay``) refuses it with ``CutoverError/Code/journalMismatch``.
enum JournalActionPayload: Sendable, Hashable {
    case runGuards(CutoverOperation)
    case prepareProxy(disableQueryRetries: Bool, relaxAutoIncrementPin: Bool)
    case settleAutoIncrementPins(RoutedServer, timeout: Duration, interval: Duration)
    case settleReplication(DatabaseRole, source: DatabaseRole, threshold: Duration, timeout: Duration)
    case setStatus(RoutedServer, RoutingStatus)
    case watchNewWriter(DatabaseRole, watch: Duration, recovery: Duration, interval: Duration, maximumReloads: Int)
    case pollDrain(RoutedServer, timeout: Duration, interval: Duration)
    case closeSessions(DatabaseRole)
    case fence(DatabaseRole, timeout: Duration)
    case liftFence(DatabaseRole)
    case readPosition(DatabaseRole)
    case proveFenceHeld(DatabaseRole, atFence: ReplicationCoordinate)
    case waitForCatchUp(DatabaseRole, coordinate: ReplicationCoordinate, timeout: Duration)
    case stopReplication(DatabaseRole)
    case startReplication(DatabaseRole, source: DatabaseRole, coordinate: ReplicationCoordinate)
    case verifyReplication(DatabaseRole)
    case persistReadOnly(DatabaseRole, readOnly: Bool)
    case restoreProxySettings(ProxySettingsSnapshot)
    case saveProxyConfiguration
    case wait
    case finish(JournalOutcomePayload)
    /// A payload this version cannot read: the case's name and why.
    case unreadable(name: String, reason: String)
}

/// The on-disk form of ``CutoverEvent`` (see ``JournalActionPayload``).
enum JournalEventPayload: Sendable, Hashable {
    case guardsFinished(
        blockingReasons: [BlockingReason], pinnedSessions: [SessionHolder]?, proxySettings: ProxySettingsSnapshot?,
        autoIncrementPin: AutoIncrementPinDecision?)
    case proxyPrepared(ProxySettingsSnapshot)
    case autoIncrementPinsSettled(RoutedServer, stillHeld: Int?, at: Duration)
    case replicationSettleEnded(DatabaseRole, ReplicationSettleObservation, at: Duration)
    case statusSet(RoutedServer, RoutingStatus, at: Duration)
    case newWriterWatched(DatabaseRole, ShunnedWriterWatch, at: Duration)
    case drained(RoutedServer, at: Duration)
    case drainEndedWithIdlePins(RoutedServer, holders: [ClassifiedHolder], at: Duration)
    case drainDeadlinePassed(RoutedServer, holders: [SessionHolder], at: Duration)
    case drainStopped(RoutedServer, holders: [SessionHolder], at: Duration)
    case catchUpStopped(DatabaseRole, at: Duration)
    case sessionsClosed(DatabaseRole, count: Int, at: Duration)
    case fenced(DatabaseRole, at: Duration)
    case fenceLifted(DatabaseRole)
    case positionRead(DatabaseRole, ReplicationCoordinate, at: Duration)
    case caughtUp(DatabaseRole, at: Duration)
    case replicationStopped(DatabaseRole)
    case replicationStarted(DatabaseRole)
    case replicationVerified(DatabaseRole)
    case readOnlyPersisted(DatabaseRole, ReadOnlyDurability)
    case proxySettingsRestored
    case proxyConfigurationSaved
    case stepFailed(StepFailure, at: Duration)
    case gracefulShutdownRequested
    /// A payload this version cannot read: the case's name and why.
    case unreadable(name: String, reason: String)
}

/// The on-disk form of ``CutoverOutcome`` (see ``JournalActionPayload``).
enum JournalOutcomePayload: Sendable, Hashable {
    case completed
    case refused([BlockingReason])
    case rolledBack(reason: String, failures: [StepFailure])
    case stoppedAfterPointOfNoReturn(reason: String, failures: [StepFailure], remainingSteps: [StepID])
    /// A payload this version cannot read: the case's name and why.
    case unreadable(name: String, reason: String)
}

// MARK: Coding

/// A case name or a field name of a payload.
struct JournalPayloadKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Writes and reads the shape every payload has on disk: one key naming the case, holding an object of its fields.
enum JournalPayloadCoding {
    /// A field to write: its name and value, nil for an absent optional (left out, as format 1 does).
    typealias Field = (name: String, value: (any Encodable)?)

    static func write(_ encoder: any Encoder, _ name: String, _ fields: [Field] = []) throws {
        var outer = encoder.container(keyedBy: JournalPayloadKey.self)
        var inner = outer.nestedContainer(keyedBy: JournalPayloadKey.self, forKey: JournalPayloadKey(name))
        for field in fields {
            guard let value = field.value else { continue }
            try inner.encode(value, forKey: JournalPayloadKey(field.name))
        }
    }

    /// An optional field's value (nil: left out).
    static func optional<T: Encodable>(_ value: T?) -> (any Encodable)? { value.map { $0 } }

    /// The fields of one payload being read.
    struct Reader {
        let name: String
        let container: KeyedDecodingContainer<JournalPayloadKey>

        func callAsFunction<T: Decodable>(_ field: String, as type: T.Type = T.self) throws -> T {
            try container.decode(T.self, forKey: JournalPayloadKey(field))
        }

        func optional<T: Decodable>(_ field: String, as type: T.Type = T.self) throws -> T? {
            try container.decodeIfPresent(T.self, forKey: JournalPayloadKey(field))
        }
    }

    /// Reads a payload: `decode` gets the case's name and its fields and returns the value, nil for a name this
    /// version does not know. Never throws: what cannot be read becomes `unreadable(name, reason)`.
    static func read<Payload>(
        _ decoder: any Decoder, kind: String, unreadable: (String, String) -> Payload,
        decode: (Reader) throws -> Payload?
    ) -> Payload {
        let outer: KeyedDecodingContainer<JournalPayloadKey>
        do {
            outer = try decoder.container(keyedBy: JournalPayloadKey.self)
        } catch {
            return unreadable("?", "the \(kind) is not an object naming one case")
        }
        guard outer.allKeys.count == 1, let key = outer.allKeys.first else {
            return unreadable(
                outer.allKeys.map(\.stringValue).sorted().joined(separator: ","),
                "the \(kind) names \(outer.allKeys.count) cases, not one")
        }
        do {
            let fields = try outer.nestedContainer(keyedBy: JournalPayloadKey.self, forKey: key)
            guard let payload = try decode(Reader(name: key.stringValue, container: fields)) else {
                return unreadable(key.stringValue, "this version has no \(kind) named \(key.stringValue)")
            }
            return payload
        } catch {
            return unreadable(key.stringValue, "its fields do not read: \(Self.describe(error))")
        }
    }

    /// A decoding error in a few words (the field's path and what was wrong).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context).isEmpty ? "" : path(context) + ".")\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func unwritable(_ name: String, _ reason: String, _ encoder: any Encoder) -> EncodingError {
        EncodingError.invalidValue(
            name, .init(codingPath: encoder.codingPath, debugDescription: "an unreadable payload is not written back: \(reason)"))
    }
}

extension JournalActionPayload: Codable {
    init(from decoder: any Decoder) throws {
        self = JournalPayloadCoding.read(decoder, kind: "action", unreadable: { .unreadable(name: $0, reason: $1) }) { f in
            switch f.name {
            case "runGuards": .runGuards(try f("_0"))
            case "prepareProxy":
                .prepareProxy(
                    disableQueryRetries: try f("disableQueryRetries"), relaxAutoIncrementPin: try f("relaxAutoIncrementPin"))
            case "settleAutoIncrementPins":
                .settleAutoIncrementPins(try f("_0"), timeout: try f("timeout"), interval: try f("interval"))
            case "settleReplication":
                .settleReplication(
                    try f("_0"), source: try f("source"), threshold: try f("threshold"), timeout: try f("timeout"))
            case "setStatus": .setStatus(try f("_0"), try f("_1"))
            case "watchNewWriter":
                .watchNewWriter(
                    try f("_0"), watch: try f("watch"), recovery: try f("recovery"), interval: try f("interval"),
                    maximumReloads: try f("maximumReloads"))
            case "pollDrain": .pollDrain(try f("_0"), timeout: try f("timeout"), interval: try f("interval"))
            case "closeSessions": .closeSessions(try f("_0"))
            case "fence": .fence(try f("_0"), timeout: try f("timeout"))
            case "liftFence": .liftFence(try f("_0"))
            case "readPosition": .readPosition(try f("_0"))
            case "proveFenceHeld": .proveFenceHeld(try f("_0"), atFence: try f("atFence"))
            case "waitForCatchUp": .waitForCatchUp(try f("_0"), coordinate: try f("coordinate"), timeout: try f("timeout"))
            case "stopReplication": .stopReplication(try f("_0"))
            case "startReplication":
                .startReplication(try f("_0"), source: try f("source"), coordinate: try f("coordinate"))
            case "verifyReplication": .verifyReplication(try f("_0"))
            case "persistReadOnly": .persistReadOnly(try f("_0"), readOnly: try f("readOnly"))
            case "restoreProxySettings": .restoreProxySettings(try f("_0"))
            case "saveProxyConfiguration": .saveProxyConfiguration
            case "wait": .wait
            case "finish": .finish(try f("_0"))
            default: nil
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        typealias C = JournalPayloadCoding
        switch self {
        case .runGuards(let operation): try C.write(encoder, "runGuards", [("_0", operation)])
        case .prepareProxy(let retries, let relax):
            try C.write(
                encoder, "prepareProxy", [("disableQueryRetries", retries), ("relaxAutoIncrementPin", relax)])
        case .settleAutoIncrementPins(let server, let timeout, let interval):
            try C.write(
                encoder, "settleAutoIncrementPins", [("_0", server), ("timeout", timeout), ("interval", interval)])
        case .settleReplication(let role, let source, let threshold, let timeout):
            try C.write(
                encoder, "settleReplication",
                [("_0", role), ("source", source), ("threshold", threshold), ("timeout", timeout)])
        case .setStatus(let server, let status): try C.write(encoder, "setStatus", [("_0", server), ("_1", status)])
        case .watchNewWriter(let role, let watch, let recovery, let interval, let maximumReloads):
            try C.write(
                encoder, "watchNewWriter",
                [
                    ("_0", role), ("watch", watch), ("recovery", recovery), ("interval", interval),
                    ("maximumReloads", maximumReloads),
                ])
        case .pollDrain(let server, let timeout, let interval):
            try C.write(encoder, "pollDrain", [("_0", server), ("timeout", timeout), ("interval", interval)])
        case .closeSessions(let role): try C.write(encoder, "closeSessions", [("_0", role)])
        case .fence(let role, let timeout): try C.write(encoder, "fence", [("_0", role), ("timeout", timeout)])
        case .liftFence(let role): try C.write(encoder, "liftFence", [("_0", role)])
        case .readPosition(let role): try C.write(encoder, "readPosition", [("_0", role)])
        case .proveFenceHeld(let role, let atFence):
            try C.write(encoder, "proveFenceHeld", [("_0", role), ("atFence", atFence)])
        case .waitForCatchUp(let role, let coordinate, let timeout):
            try C.write(
                encoder, "waitForCatchUp", [("_0", role), ("coordinate", coordinate), ("timeout", timeout)])
        case .stopReplication(let role): try C.write(encoder, "stopReplication", [("_0", role)])
        case .startReplication(let role, let source, let coordinate):
            try C.write(
                encoder, "startReplication", [("_0", role), ("source", source), ("coordinate", coordinate)])
        case .verifyReplication(let role): try C.write(encoder, "verifyReplication", [("_0", role)])
        case .persistReadOnly(let role, let readOnly):
            try C.write(encoder, "persistReadOnly", [("_0", role), ("readOnly", readOnly)])
        case .restoreProxySettings(let snapshot): try C.write(encoder, "restoreProxySettings", [("_0", snapshot)])
        case .saveProxyConfiguration: try C.write(encoder, "saveProxyConfiguration")
        case .wait: try C.write(encoder, "wait")
        case .finish(let outcome): try C.write(encoder, "finish", [("_0", outcome)])
        case .unreadable(let name, let reason): throw C.unwritable(name, reason, encoder)
        }
    }
}

extension JournalEventPayload: Codable {
    init(from decoder: any Decoder) throws {
        self = JournalPayloadCoding.read(decoder, kind: "event", unreadable: { .unreadable(name: $0, reason: $1) }) { f in
            switch f.name {
            case "guardsFinished":
                .guardsFinished(
                    blockingReasons: try f("blockingReasons"), pinnedSessions: try f.optional("pinnedSessions"),
                    proxySettings: try f.optional("proxySettings"), autoIncrementPin: try f.optional("autoIncrementPin"))
            case "proxyPrepared": .proxyPrepared(try f("_0"))
            case "autoIncrementPinsSettled":
                .autoIncrementPinsSettled(try f("_0"), stillHeld: try f.optional("stillHeld"), at: try f("at"))
            case "replicationSettleEnded": .replicationSettleEnded(try f("_0"), try f("_1"), at: try f("at"))
            case "statusSet": .statusSet(try f("_0"), try f("_1"), at: try f("at"))
            case "newWriterWatched": .newWriterWatched(try f("_0"), try f("_1"), at: try f("at"))
            case "drained": .drained(try f("_0"), at: try f("at"))
            case "drainEndedWithIdlePins": .drainEndedWithIdlePins(try f("_0"), holders: try f("holders"), at: try f("at"))
            case "drainDeadlinePassed": .drainDeadlinePassed(try f("_0"), holders: try f("holders"), at: try f("at"))
            case "drainStopped": .drainStopped(try f("_0"), holders: try f("holders"), at: try f("at"))
            case "catchUpStopped": .catchUpStopped(try f("_0"), at: try f("at"))
            case "sessionsClosed": .sessionsClosed(try f("_0"), count: try f("count"), at: try f("at"))
            case "fenced": .fenced(try f("_0"), at: try f("at"))
            case "fenceLifted": .fenceLifted(try f("_0"))
            case "positionRead": .positionRead(try f("_0"), try f("_1"), at: try f("at"))
            case "caughtUp": .caughtUp(try f("_0"), at: try f("at"))
            case "replicationStopped": .replicationStopped(try f("_0"))
            case "replicationStarted": .replicationStarted(try f("_0"))
            case "replicationVerified": .replicationVerified(try f("_0"))
            case "readOnlyPersisted": .readOnlyPersisted(try f("_0"), try f("_1"))
            case "proxySettingsRestored": .proxySettingsRestored
            case "proxyConfigurationSaved": .proxyConfigurationSaved
            case "stepFailed": .stepFailed(try f("_0"), at: try f("at"))
            case "gracefulShutdownRequested": .gracefulShutdownRequested
            default: nil
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        typealias C = JournalPayloadCoding
        switch self {
        case .guardsFinished(let reasons, let pinned, let settings, let pin):
            try C.write(
                encoder, "guardsFinished",
                [
                    ("blockingReasons", reasons), ("pinnedSessions", C.optional(pinned)),
                    ("proxySettings", C.optional(settings)), ("autoIncrementPin", C.optional(pin)),
                ])
        case .proxyPrepared(let snapshot): try C.write(encoder, "proxyPrepared", [("_0", snapshot)])
        case .autoIncrementPinsSettled(let server, let stillHeld, let at):
            try C.write(
                encoder, "autoIncrementPinsSettled", [("_0", server), ("stillHeld", C.optional(stillHeld)), ("at", at)])
        case .replicationSettleEnded(let role, let observation, let at):
            try C.write(encoder, "replicationSettleEnded", [("_0", role), ("_1", observation), ("at", at)])
        case .statusSet(let server, let status, let at):
            try C.write(encoder, "statusSet", [("_0", server), ("_1", status), ("at", at)])
        case .newWriterWatched(let role, let watch, let at):
            try C.write(encoder, "newWriterWatched", [("_0", role), ("_1", watch), ("at", at)])
        case .drained(let server, let at): try C.write(encoder, "drained", [("_0", server), ("at", at)])
        case .drainEndedWithIdlePins(let server, let holders, let at):
            try C.write(encoder, "drainEndedWithIdlePins", [("_0", server), ("holders", holders), ("at", at)])
        case .drainDeadlinePassed(let server, let holders, let at):
            try C.write(encoder, "drainDeadlinePassed", [("_0", server), ("holders", holders), ("at", at)])
        case .drainStopped(let server, let holders, let at):
            try C.write(encoder, "drainStopped", [("_0", server), ("holders", holders), ("at", at)])
        case .catchUpStopped(let role, let at): try C.write(encoder, "catchUpStopped", [("_0", role), ("at", at)])
        case .sessionsClosed(let role, let count, let at):
            try C.write(encoder, "sessionsClosed", [("_0", role), ("count", count), ("at", at)])
        case .fenced(let role, let at): try C.write(encoder, "fenced", [("_0", role), ("at", at)])
        case .fenceLifted(let role): try C.write(encoder, "fenceLifted", [("_0", role)])
        case .positionRead(let role, let coordinate, let at):
            try C.write(encoder, "positionRead", [("_0", role), ("_1", coordinate), ("at", at)])
        case .caughtUp(let role, let at): try C.write(encoder, "caughtUp", [("_0", role), ("at", at)])
        case .replicationStopped(let role): try C.write(encoder, "replicationStopped", [("_0", role)])
        case .replicationStarted(let role): try C.write(encoder, "replicationStarted", [("_0", role)])
        case .replicationVerified(let role): try C.write(encoder, "replicationVerified", [("_0", role)])
        case .readOnlyPersisted(let role, let durability):
            try C.write(encoder, "readOnlyPersisted", [("_0", role), ("_1", durability)])
        case .proxySettingsRestored: try C.write(encoder, "proxySettingsRestored")
        case .proxyConfigurationSaved: try C.write(encoder, "proxyConfigurationSaved")
        case .stepFailed(let failure, let at): try C.write(encoder, "stepFailed", [("_0", failure), ("at", at)])
        case .gracefulShutdownRequested: try C.write(encoder, "gracefulShutdownRequested")
        case .unreadable(let name, let reason): throw C.unwritable(name, reason, encoder)
        }
    }
}

extension JournalOutcomePayload: Codable {
    init(from decoder: any Decoder) throws {
        self = JournalPayloadCoding.read(decoder, kind: "outcome", unreadable: { .unreadable(name: $0, reason: $1) }) { f in
            switch f.name {
            case "completed": .completed
            case "refused": .refused(try f("_0"))
            case "rolledBack": .rolledBack(reason: try f("reason"), failures: try f("failures"))
            case "stoppedAfterPointOfNoReturn":
                .stoppedAfterPointOfNoReturn(
                    reason: try f("reason"), failures: try f("failures"), remainingSteps: try f("remainingSteps"))
            default: nil
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        typealias C = JournalPayloadCoding
        switch self {
        case .completed: try C.write(encoder, "completed")
        case .refused(let reasons): try C.write(encoder, "refused", [("_0", reasons)])
        case .rolledBack(let reason, let failures):
            try C.write(encoder, "rolledBack", [("reason", reason), ("failures", failures)])
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            try C.write(
                encoder, "stoppedAfterPointOfNoReturn",
                [("reason", reason), ("failures", failures), ("remainingSteps", remaining)])
        case .unreadable(let name, let reason): throw C.unwritable(name, reason, encoder)
        }
    }
}
