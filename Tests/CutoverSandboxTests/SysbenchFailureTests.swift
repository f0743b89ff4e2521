import Foundation
import Testing

@testable import CutoverSandbox

/// Issue #18: Debian's sysbench 1.0.20 (libmariadb) dies with SIGSEGV when it reconnects after a lost connection
/// (reproduced against MariaDB alone by killing one of its connections); the failure says so instead of a bare
/// "signal 11".
@Suite("sysbench failures")
struct SysbenchFailureTests {
    static let crashedWhileReconnecting = """
        Threads started!

        DEBUG: Ignoring error 2013 Lost connection to server during query,
        DEBUG: Reconnecting
        """

    @Test("a SIGSEGV right after sysbench's 'Reconnecting' names the known crash and keeps the output's tail")
    func segfaultWhileReconnecting() {
        let message = SysbenchLoad.failureMessage(
            command: "run", termination: .signalled(SIGSEGV), output: Self.crashedWhileReconnecting)
        #expect(message.hasPrefix("sysbench run ended with signal \(SIGSEGV) while reconnecting"))
        #expect(message.contains("akopytov/sysbench#527"))
        #expect(message.hasSuffix("DEBUG: Reconnecting"))
    }

    @Test("other failures are reported as they are, without the hint")
    func otherFailures() {
        let exited = SysbenchLoad.failureMessage(
            command: "run", termination: .exited(1), output: Self.crashedWhileReconnecting)
        #expect(exited.hasPrefix("sysbench run ended with exit status 1:\n"))
        #expect(!exited.contains("#527"))
        let otherCrash = SysbenchLoad.failureMessage(
            command: "prepare", termination: .signalled(SIGSEGV), output: "Creating table 'sbtest1'...")
        #expect(otherCrash == "sysbench prepare ended with signal \(SIGSEGV):\nCreating table 'sbtest1'...")
    }
}
