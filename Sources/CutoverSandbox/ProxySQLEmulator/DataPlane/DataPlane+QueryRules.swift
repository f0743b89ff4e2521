import Synchronization

extension DataPlane {
    /// `LOAD MYSQL QUERY RULES TO RUNTIME`: the application port routes the next statements by these rules.
    func loadQueryRules(_ rules: QueryRuleSet) {
        state.withLock { $0.queryRules = rules }
    }

    /// The runtime query rules.
    var queryRules: QueryRuleSet {
        state.withLock { $0.queryRules }
    }

    /// Records where the session's current statement runs (`stats_mysql_processlist.hostgroup`).
    func setHostgroup(_ id: UInt32, hostgroup: Int) {
        state.withLock { $0.sessions[id]?.hostgroup = hostgroup }
    }
}

extension DataPlane {
    /// The hostgroup of the backend connection session `id` holds, nil when it holds none.
    func backendHostgroup(of id: UInt32) -> Int? {
        state.withLock { $0.sessions[id]?.backend?.server.hostgroup }
    }
}
