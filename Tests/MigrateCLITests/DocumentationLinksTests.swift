import Foundation
import Testing

@testable import MigrateCLI

/// Issue #13 ("the runbook cites exit code 6 and a section of cli.md that do not exist"): every exit code the operator
/// documents cite is one `migrate-cli` has, every link to a section lands on a heading, and every runbook section the
/// code's messages point to exists.
@Suite("Documentation: exit codes, section links and the runbook anchors the code cites exist")
struct DocumentationLinksTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The operator documents (the benchmark notes also cite other programs' exit statuses).
    static let operatorDocuments = [
        "README.md", "Documentation/runbook.md", "Documentation/cli.md", "Documentation/configuration.md",
        "Documentation/reliability.md", "Documentation/aurora-preflight-checklist.md",
    ]

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every match of `pattern`'s first capture group in `text`.
    static func captures(_ pattern: String, in text: String) throws -> [String] {
        let expression = try NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// The anchors GitHub gives a Markdown file's headings: lower-cased, punctuation other than `-` and `_` dropped,
    /// spaces turned into `-`, repeats numbered `-1`, `-2`; code blocks skipped.
    static func anchors(ofMarkdown text: String) -> Set<String> {
        var anchors: Set<String> = []
        var counts: [String: Int] = [:]
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            var slug = ""
            for character in title.lowercased() {
                if character.isLetter || character.isNumber || character == "-" || character == "_" {
                    slug.append(character)
                } else if character == " " {
                    slug.append("-")
                }
            }
            let seen = counts[slug, default: 0]
            counts[slug] = seen + 1
            anchors.insert(seen == 0 ? slug : "\(slug)-\(seen)")
        }
        return anchors
    }

    @Test("the slug rule matches GitHub's on this project's headings")
    func slugRule() {
        let anchors = Self.anchors(
            ofMarkdown: "## Step 3: binary logs on both sides\n### `cutover`, `failback`, `resume`\n## Known limits (read before a real run)\n## Exit codes\n## Exit codes\n```sh\n# not a heading\n```")
        #expect(
            anchors == [
                "step-3-binary-logs-on-both-sides", "cutover-failback-resume", "known-limits-read-before-a-real-run",
                "exit-codes", "exit-codes-1",
            ])
    }

    @Test("every exit code the operator documents cite is one migrate-cli has")
    func exitCodesExist() throws {
        let known = Set(ExitStatus.all.map { String($0.code) })
        for path in Self.operatorDocuments {
            let text = try Self.text(path)
            for code in try Self.captures(#"(?i)\bexit(?: code| status)? (\d+)\b"#, in: text) {
                #expect(known.contains(code), "\(path) cites exit \(code), which migrate-cli does not have")
            }
        }
    }

    @Test("every link to a section of a document lands on one of its headings")
    func sectionLinksResolve() throws {
        let documentation = Self.root.appendingPathComponent("Documentation")
        var paths = ["README.md"]
        for directory in ["", "adr/"] {
            let names = try FileManager.default.contentsOfDirectory(
                atPath: documentation.appendingPathComponent(directory).path)
            paths += names.filter { $0.hasSuffix(".md") }.map { "Documentation/\(directory)\($0)" }
        }
        var checked = 0
        for path in paths {
            let text = try Self.text(path)
            let directory = path.split(separator: "/").dropLast().map(String.init)
            for link in try Self.captures(#"\]\(([A-Za-z0-9_./-]*#[A-Za-z0-9_-]+)\)"#, in: text) {
                let parts = link.split(separator: "#", maxSplits: 1).map(String.init)
                let (file, anchor) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
                // The linked file, relative to the package root (`..` resolved).
                var components = file.isEmpty ? path.split(separator: "/").map(String.init) : directory
                if !file.isEmpty {
                    for component in file.split(separator: "/").map(String.init) {
                        if component == ".." { components = components.dropLast() } else if component != "." {
                            components.append(component)
                        }
                    }
                }
                let relative = components.joined(separator: "/")
                guard let targetText = try? Self.text(relative) else {
                    Issue.record("\(path): \(link) points to a missing file \(relative)")
                    continue
                }
                #expect(
                    Self.anchors(ofMarkdown: targetText).contains(anchor),
                    "\(path): \(link) — \(relative) has no heading with anchor #\(anchor)")
                checked += 1
            }
        }
        #expect(checked > 20, "only \(checked) section links found: the pattern no longer matches")
    }

    @Test("every runbook section the code's messages point to exists (remedies cite runbook.md#…, the runbook's step N)")
    func codeCitesExistingRunbookSections() throws {
        let runbook = try Self.text("Documentation/runbook.md")
        let anchors = Self.anchors(ofMarkdown: runbook)
        let steps = Set(try Self.captures(#"(?m)^## Step (\d+):"#, in: runbook))
        let sources = Self.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        #expect(!files.isEmpty)
        var cited = 0
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for anchor in try Self.captures(#"runbook\.md#([A-Za-z0-9_-]+)"#, in: text) {
                #expect(anchors.contains(anchor), "Sources/\(file) cites runbook.md#\(anchor), which does not exist")
                cited += 1
            }
            for step in try Self.captures(#"runbook's step (\d+)"#, in: text) {
                #expect(steps.contains(step), "Sources/\(file) cites the runbook's step \(step), which does not exist")
                cited += 1
            }
        }
        // At least the refusal of a replication channel that stopped with an error (issue #13 item 5) cites one.
        #expect(cited >= 2)
        #expect(anchors.contains("replication-stopped-with-an-error"))
    }
}
