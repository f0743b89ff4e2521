import MariaDB
import ReplicationControl
import Testing

@testable import Cutover

@Suite("SourceFenceCheck")
struct SourceFenceCheckTests {
    let mariaDB = ReplicationDialect(server: .mariaDB, version: ServerVersion(10, 11, 19))
    let mysql8 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 36))

    @Test("a source that replicates but is writable: the statement to run and the option-file lines")
    func writable() {
        let findings = SourceFenceCheck.findings(
            name: "source (10.0.0.5:3306)", dialect: mariaDB,
            setting: ReadOnlySetting(readOnly: false, superReadOnly: nil, origin: .compiledDefault),
            replicatesFrom: "aurora.example:3306")
        #expect(findings.count == 1)
        #expect(findings[0].contains("but is writable"))
        #expect(findings[0].contains("SET GLOBAL read_only = ON"))
        #expect(findings[0].contains("`read_only = ON`, `replicate_wild_ignore_table = mysql.rds\\_%`"))
        #expect(!findings[0].contains("SET PERSIST"))
    }

    @Test("read-only until the next restart: the lines (and SET PERSIST where it exists); durable: nothing")
    func readOnlyAtRuntime() {
        let runtime = SourceFenceCheck.findings(
            name: "source", dialect: mysql8,
            setting: ReadOnlySetting(readOnly: true, superReadOnly: true, origin: .runtime),
            replicatesFrom: "aurora.example:3306")
        #expect(runtime.count == 1 && runtime[0].contains("only until its next restart"))
        #expect(runtime[0].contains("`super_read_only = ON`") && runtime[0].contains("SET PERSIST read_only = ON"))
        for origin in [ReadOnlySetting.Origin.startup, .persisted, .unknown] {
            #expect(
                SourceFenceCheck.findings(
                    name: "source", dialect: mysql8,
                    setting: ReadOnlySetting(readOnly: true, superReadOnly: true, origin: origin),
                    replicatesFrom: "aurora.example:3306"
                ).isEmpty, "\(origin)")
        }
    }

    @Test("a source that replicates from nobody is the writer: nothing to check")
    func primary() {
        #expect(
            SourceFenceCheck.findings(
                name: "source", dialect: mariaDB,
                setting: ReadOnlySetting(readOnly: false, superReadOnly: nil, origin: .runtime), replicatesFrom: nil
            ).isEmpty)
    }
}
