import Cutover
import Foundation
import Testing

/// The switch command's runner: output captured, the timeout enforced, no password in its environment.
@Suite("Hook switch: the command runner")
struct ShellSwitchCommandRunnerTests {
    @Test("status and output (stdout and stderr) are captured; the environment carries the switch variables")
    func captures() async {
        let result = await ShellSwitchCommandRunner().run(
            command: #"echo "to $MIGRATE_SWITCH_NEW_ENDPOINT"; echo oops >&2; exit 3"#,
            environment: ["MIGRATE_SWITCH_NEW_ENDPOINT": "10.0.0.9:3306"], timeout: .seconds(30))
        #expect(result.exitStatus == 3)
        #expect(!result.succeeded && !result.timedOut)
        #expect(result.output.contains("to 10.0.0.9:3306") && result.output.contains("oops"))
    }

    @Test("a command that outlives its timeout is killed and reported so")
    func timeout() async {
        let started = ContinuousClock.now
        let result = await ShellSwitchCommandRunner().run(command: "sleep 60; echo never", environment: [:], timeout: .milliseconds(200))
        // The shell's child (sleep) is ended with it: the run does not last the 60 s (a generous bound for a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(result.timedOut)
        #expect(result.exitStatus == nil)
    }

    @Test("passwords are not passed on: MYSQL_PWD and any variable whose name contains PASSWORD")
    func noPasswords() {
        let environment = ShellSwitchCommandRunner.environment(
            adding: ["MIGRATE_SWITCH_RUN_ID": "r"],
            base: ["PATH": "/bin", "MYSQL_PWD": "x", "MIGRATE_SOURCE_PASSWORD": "y", "db_password_file": "z"])
        #expect(environment == ["PATH": "/bin", "MIGRATE_SWITCH_RUN_ID": "r"])
    }
}
