/// The admin database's schema: every table of ``AdminTables`` in `main`, `disk` and `stats`, laid out as ProxySQL
/// 2.7.1 lays them out (38 tables in `main`).
enum AdminSchema {
    /// Every table of `main`, `disk` and `stats`.
    static var installScript: String {
        (AdminTables.mainStatements + AdminTables.diskStatements + AdminTables.statsStatements)
            .joined(separator: ";\n") + ";"
    }

    /// The tables of `mysql_servers`' module (`LOAD/SAVE MYSQL SERVERS ...`).
    static var serverTables: [String] { AdminTables.serversModule.tables.map(\.name) }

    /// Tables saved to and loaded from `disk` at start.
    static var diskTables: [String] {
        AdminTables.modules.filter(\.hasDisk).flatMap(\.tables).map(\.name) + ["global_variables"]
    }
}
