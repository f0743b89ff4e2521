import MariaDB

/// Why `status` could not read an endpoint, in the operator's words, and the exit status it leads to: a
/// configuration problem (an unset password variable, an unreadable password file) is not "unreachable" (78), a
/// refused login, a closed port or a host name that does not resolve is (69).
struct StatusReadFailure: Sendable, Hashable {
    enum Cause: String, Sendable, Hashable {
        case configuration = "configuration error"
        case loginRefused = "login refused"
        case unresolvable = "host does not resolve"
        case unreachable = "unreachable"
        case failed = "read failed"
    }

    var cause: Cause
    /// The message, never a password.
    var detail: String

    /// The exit status this failure leads to.
    var status: ExitStatus {
        switch cause {
        case .configuration: .configuration
        case .loginRefused, .unresolvable, .unreachable: .endpointUnavailable
        case .failed: .failure
        }
    }

    /// The cell shown in place of a value.
    var cell: String { cause.rawValue }

    /// Classifies an error from connecting to or reading an endpoint.
    static func classify(_ error: any Error) -> StatusReadFailure {
        switch error {
        case let error as ConfigurationError:
            return StatusReadFailure(cause: .configuration, detail: error.description)
        case let error as EndpointUnavailable:
            guard let underlying = error.underlying as? MariaDBError else {
                return StatusReadFailure(cause: .failed, detail: error.description)
            }
            return StatusReadFailure(cause: cause(of: underlying), detail: error.description)
        case let error as MariaDBError:
            return StatusReadFailure(cause: cause(of: error), detail: error.description)
        default:
            let (status, message) = ExitStatus.of(error)
            let cause: Cause =
                status == .configuration ? .configuration : status == .endpointUnavailable ? .unreachable : .failed
            return StatusReadFailure(cause: cause, detail: message)
        }
    }

    private static func cause(of error: MariaDBError) -> Cause {
        if error.code == .invalidConfiguration || error.code == .loginPath || error.code == .optionFile {
            return .configuration
        }
        if error.isAccessDenied { return .loginRefused }
        // CR_UNKNOWN_HOST: the name does not resolve.
        if error.serverErrorNumber == 2005 { return .unresolvable }
        if error.code == .connectionFailed { return .unreachable }
        return .failed
    }

    /// The exit status of a `status` that could not read `failures` (the most telling first: a configuration error
    /// before an unreachable endpoint).
    static func exitStatus(_ failures: [StatusReadFailure]) -> ExitStatus? {
        if failures.contains(where: { $0.status == .configuration }) { return .configuration }
        if failures.contains(where: { $0.status == .endpointUnavailable }) { return .endpointUnavailable }
        if !failures.isEmpty { return .failure }
        return nil
    }
}
