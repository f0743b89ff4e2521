import Foundation
import Testing

@testable import MariaDB

@Suite("OptionFile")
struct OptionFileTests {
    static let sample = """
        # a comment
        ; another comment

        [client]
        user = ops
        password = "pa#ss word" # trailing comment
        host=db.internal   
        port = 3307
        ssl_ca = '/etc/ssl/ca.pem'
        skip-ssl-verify-server-cert
        loose-default-character-set = utf8mb4

          [ Migrate ]  
        password = "esc\\"aped\\\\ \\n\\t\\s\\x"
        unquoted = a 'b' "c"
        odd = "unbalanced
        hash = x#y
        quoted-hash = 'x#y'
        empty =
        empty-quotes = ""
        single = '

        [mysqld]
        password = server-side
        !include /etc/mysql/extra.cnf
        !includedir /etc/mysql/conf.d/
        !unknown directive
        """

    @Test("groups, options, quotes, escapes and comments")
    func parsing() throws {
        let file = try OptionFile(parsing: Self.sample, path: "/etc/my.cnf")
        #expect(file.groups.map(\.name) == ["client", " Migrate", "mysqld"])
        let client = file.groups[0].options
        #expect(
            client.map(\.name) == [
                "user", "password", "host", "port", "ssl_ca", "skip-ssl-verify-server-cert",
                "loose-default-character-set",
            ])
        #expect(client.map(\.value) == ["ops", "pa#ss word", "db.internal", "3307", "/etc/ssl/ca.pem", nil, "utf8mb4"])
        #expect(client[0].line == 5)
        let migrate = Dictionary(uniqueKeysWithValues: file.groups[1].options.map { ($0.name, $0.value) })
        #expect(migrate["password"] == "esc\"aped\\ \n\t \\x")
        #expect(migrate["unquoted"] == "a 'b' \"c\"")
        #expect(migrate["odd"] == "\"unbalanced")
        #expect(migrate["hash"] == "x")
        #expect(migrate["quoted-hash"] == "x#y")
        #expect(migrate["empty"] == "")
        #expect(migrate["empty-quotes"] == "")
        #expect(migrate["single"] == "'")
        #expect(file.unsupportedDirectives.map(\.keyword) == ["include", "includedir"])
        #expect(file.unsupportedDirectives.map(\.argument) == ["/etc/mysql/extra.cnf", "/etc/mysql/conf.d/"])
    }

    @Test("lookups merge groups in file order, match groups case-insensitively and treat _ as -")
    func lookups() throws {
        let file = try OptionFile(parsing: Self.sample)
        #expect(file.value(of: "password", inGroups: ["client"]) == "pa#ss word")
        #expect(file.value(of: "password", inGroups: ["client", " migrate"]) == "esc\"aped\\ \n\t \\x")
        #expect(file.value(of: "ssl-ca", inGroups: ["CLIENT"]) == "/etc/ssl/ca.pem")
        #expect(file.value(of: "default_character_set", inGroups: ["client"]) == "utf8mb4")
        #expect(file.value(of: "password", inGroups: ["nothing"]) == nil)
        #expect(file.options(inGroups: ["client"])["skip-ssl-verify-server-cert"]?.value == nil)
        #expect(file.options(inGroups: ["client"])["skip-ssl-verify-server-cert"] != nil)
        #expect(
            file.optionNames(inGroups: ["client"]) == [
                "default-character-set", "host", "password", "port", "skip-ssl-verify-server-cert", "ssl-ca", "user",
            ]
        )
        #expect(file.groupNames == ["client", " Migrate", "mysqld"])
        let repeated = try OptionFile(parsing: "[client]\nuser=a\n[other]\nuser=b\n[Client]\nuser=c\n")
        #expect(repeated.value(of: "user", inGroups: ["client"]) == "c")
        #expect(repeated.value(of: "user", inGroups: ["client", "other"]) == "c")
        #expect(repeated.groupNames == ["client", "other"])
    }

    @Test("CRLF line endings")
    func crlf() throws {
        let file = try OptionFile(parsing: "[client]\r\nuser = ops\r\npassword = \"pw\"\r\n")
        #expect(file.value(of: "user", inGroups: ["client"]) == "ops")
        #expect(file.value(of: "password", inGroups: ["client"]) == "pw")
    }

    @Test(
        "errors name the line, never its content",
        arguments: [
            ("password = leaked-secret\n[client]\n", 1, "option outside of any [group]"),
            ("[client]\nuser = x\n[broken\npassword = leaked-secret\n", 3, "no closing ]"),
        ])
    func errors(text: String, line: Int, problem: String) {
        let error = mariaDBError { _ = try OptionFile(parsing: text, path: "/etc/my.cnf") }
        #expect(error?.code == .optionFile)
        #expect(error?.description.contains("/etc/my.cnf line \(line)") == true, "\(String(describing: error))")
        #expect(error?.description.contains(problem) == true)
        #expect(error?.description.contains("leaked-secret") == false)
    }

    @Test("description and dump list names, never values")
    func noValuesShown() throws {
        let file = try OptionFile(parsing: Self.sample)
        for text in [file.description, dumped(file), String(reflecting: file)] {
            #expect(!text.contains("pa#ss word"))
            #expect(!text.contains("server-side"))
            #expect(text.contains("password"))
        }
    }

    @Test("reading files, and what a configured option file provides")
    func files() throws {
        try TestFiles.withTemporaryDirectory { (directory: URL) throws in
            let url = directory.appendingPathComponent("my.cnf")
            try TestFiles.write(Self.sample, to: url)
            let file = try OptionFile(contentsOf: url.path)
            #expect(file.path == url.path)
            #expect(file.groups.count == 3)

            let configured = MariaDBConnection.Configuration.OptionFile(path: url.path, group: " Migrate")
            #expect(configured.groupsRead == ["client", "client-server", "client-mariadb", " Migrate"])
            #expect(try configured.providedOptionNames().contains("unquoted"))
            let clientOnly = MariaDBConnection.Configuration.OptionFile(path: url.path)
            #expect(clientOnly.groupsRead == ["client", "client-server", "client-mariadb"])
            #expect(!(try clientOnly.providedOptionNames().contains("unquoted")))
            #expect(MariaDBConnection.Configuration.OptionFile(path: "x", group: "CLIENT").groupsRead.count == 3)

            let missing = mariaDBError { _ = try OptionFile(contentsOf: url.path + ".nope") }
            #expect(missing?.code == .optionFile)
            #expect(missing?.description.contains("does not exist") == true)
        }
    }
}
