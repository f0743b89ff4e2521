import Foundation
import Testing

@testable import MigrateCLI

@Suite("Documentation matches the code")
struct DocumentationTests {
    static func document(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Documentation/\(name)"), encoding: .utf8)
    }

    @Test("every configuration field is in configuration.md, with its variable and default")
    func configurationFields() throws {
        let text = try Self.document("configuration.md")
        for field in ConfigurationSchema.fields {
            let variable = ConfigurationKey(field.pattern.map { $0 == "*" ? "<NAME>" : $0 }).environmentName
            let row = text.split(separator: "\n").first { $0.hasPrefix("| `\(field.name)` |") }
            #expect(row != nil, "\(field.name) is not documented")
            #expect(row?.contains("`\(variable)`") == true, "\(field.name): \(variable)")
            if let value = field.defaultValue { #expect(row?.contains("`\(value)`") == true, "\(field.name) default \(value)") }
        }
    }

    @Test("every exit code is in cli.md")
    func exitCodes() throws {
        let text = try Self.document("cli.md")
        for status in ExitStatus.all {
            #expect(text.contains("| \(status.code) | `\(status.name)` |"), "\(status)")
        }
    }
}
