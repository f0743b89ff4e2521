import Foundation
import Cutover
import MariaDB
import ProxySQLAdmin

/// The exit codes of `migrate-cli`, and the one place where outcomes and errors are mapped to them.
///
/// Documented in `migrate-cli --help` and `Documentation/cli.md`; scripts may rely on them.
struct ExitStatus: Sendable, Hashable, CustomStringConvertible {
    let code: Int32
    /// A short name (`rolled-back`), shown in `--json` output.
    let name: String
    /// What the operator should understand, in one line.
    let meaning: String
    /// The same in at most 72 characters, for `--help`.
    let short: String

    /// Done.
    static let success = ExitStatus(code: 0, name: "success", meaning: "done", short: "done")
    /// An unexpected failure; the message says what and where. Run `migrate-cli status` to see the state.
    static let failure = ExitStatus(code: 1, name: "failure", meaning: "failed; the message says where (check `migrate-cli status`)", short: "failed: the message says where; check `migrate-cli status`")
    /// Preflight or the guards refused, the operator declined, or there was nothing to resume: nothing changed.
    static let refused = ExitStatus(code: 2, name: "refused", meaning: "refused by preflight, the guards or the operator: nothing was changed", short: "refused (preflight, guards, operator): nothing changed")
    /// A failure before the point of no return; the starting routing was restored.
    static let rolledBack = ExitStatus(code: 3, name: "rolled-back", meaning: "failed before the point of no return and rolled back: the starting routing is restored", short: "rolled back before the point of no return: routing restored")
    /// Rolling back failed too: some servers may not be where they started.
    static let rollbackIncomplete = ExitStatus(code: 4, name: "rollback-incomplete", meaning: "rolled back, but some rollback steps failed: check `migrate-cli status` and fix by hand", short: "rollback incomplete: check `migrate-cli status`, fix by hand")
    /// The new writer took over but later steps did not finish: run `migrate-cli resume`.
    static let unfinished = ExitStatus(code: 5, name: "unfinished-after-point-of-no-return", meaning: "the switch happened but later steps did not finish: run `migrate-cli resume`", short: "switched, but later steps unfinished: run `migrate-cli resume`")
    /// Bad command-line usage (unknown flag, missing argument).
    static let usage = ExitStatus(code: 64, name: "usage", meaning: "bad command line (see --help)", short: "bad command line")
    /// An endpoint could not be reached or refused the login: nothing changed.
    static let endpointUnavailable = ExitStatus(code: 69, name: "endpoint-unavailable", meaning: "an endpoint could not be reached or refused the login: nothing was changed", short: "endpoint unreachable or login refused: nothing changed")
    /// Another run holds the journal.
    static let busy = ExitStatus(code: 75, name: "busy", meaning: "another run holds the journal's lock: nothing was changed", short: "another run holds the journal: nothing changed")
    /// The configuration is invalid (the message names the field): nothing changed.
    static let configuration = ExitStatus(code: 78, name: "configuration", meaning: "invalid configuration (the message names the field): nothing was changed", short: "invalid configuration (names the field): nothing changed")
    /// Interrupted (Ctrl-C, SIGTERM) before the point of no return, and rolled back.
    static let interrupted = ExitStatus(code: 130, name: "interrupted", meaning: "interrupted before the point of no return: rolled back, nothing changed", short: "interrupted before the point of no return: rolled back")

    static let all: [ExitStatus] = [
        .success, .failure, .refused, .rolledBack, .rollbackIncomplete, .unfinished, .usage,
        .endpointUnavailable, .busy, .configuration, .interrupted,
    ]

    var description: String { "\(code) \(name)" }

    /// The exit codes as a `--help` paragraph.
    static var helpText: String {
        "Exit codes:\n" + all.map { "  \(String($0.code).padding(toLength: 4, withPad: " ", startingAt: 0)) \($0.short)" }.joined(separator: "\n")
    }

    // MARK: Mapping

    /// The exit status of a finished run.
    ///
    /// - Parameter interrupted: whether the operator asked the run to stop (SIGINT/SIGTERM).
    static func of(_ outcome: CutoverOutcome, interrupted: Bool) -> ExitStatus {
        switch outcome {
        case .completed: .success
        case .refused: .refused
        case .rolledBack(_, let failures) where !failures.isEmpty: .rollbackIncomplete
        case .rolledBack: interrupted ? .interrupted : .rolledBack
        case .stoppedAfterPointOfNoReturn: .unfinished
        }
    }

    /// The exit status of an error that ended a command, with a message for the operator (never a secret).
    static func of(_ error: any Error) -> (status: ExitStatus, message: String) {
        switch error {
        case let error as ConfigurationError:
            return (error.code == .fileExists ? .refused : .configuration, error.description)
        case let error as EndpointUnavailable:
            if error.isUnreachable { return (.endpointUnavailable, error.description) }
            let (status, _) = of(error.underlying)
            return (status, error.description)
        case let error as OperatorDeclined:
            return (.refused, error.description)
        case let error as CutoverError:
            switch error.code {
            case .invalidPlan, .journalMismatch, .unsupportedJournalVersion: return (.configuration, error.description)
            case .journalLocked: return (.busy, error.description)
            case .nothingToResume, .unfinishedRun: return (.refused, error.description)
            default: return (.failure, error.description)
            }
        case let error as MariaDBError:
            if error.code == .connectionFailed || error.isAccessDenied {
                return (.endpointUnavailable, error.description)
            }
            if error.code == .invalidConfiguration || error.code == .loginPath || error.code == .optionFile {
                return (.configuration, error.description)
            }
            if error.code == .cancelled { return (.interrupted, error.description) }
            return (.failure, error.description)
        case let error as ProxySQLAdminError:
            if error.code == .accessDenied || error.code == .connectionFailed {
                return (.endpointUnavailable, error.description)
            }
            if error.code == .cancelled { return (.interrupted, error.description) }
            return (.failure, error.description)
        case is CancellationError:
            return (.interrupted, "interrupted")
        default:
            return (.failure, "\(error)")
        }
    }
}

/// The operator answered "no" to a confirmation, or confirmation was needed without a terminal.
struct OperatorDeclined: Error, Sendable, CustomStringConvertible {
    var description: String
}
