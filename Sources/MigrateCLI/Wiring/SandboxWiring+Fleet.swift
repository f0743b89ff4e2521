import CutoverRehearsal
import CutoverSandbox

// `sandbox up --proxysql-nodes N` (issue #16): the nodes after the first, in the state file, the configuration
// and the endpoint table. Every node shares the first node's admin account and password file.
extension SandboxState {
    /// One more ProxySQL emulator node of a fleet.
    struct ProxyNode: Codable, Sendable {
        /// Its name in migrate.yaml and the journal (`proxysql-emulator-2`, ...).
        var name: String
        /// Its admin interface (same account and password file as the first node).
        var admin: Endpoint
        /// Hostgroup → data port.
        var dataPorts: [String: Int]
    }
}

extension SandboxWiring {
    static func additionalProxyNodes(_ rehearsal: Rehearsal) -> [SandboxState.ProxyNode] {
        zip(rehearsal.emulators, rehearsal.proxyNodeNames).dropFirst().map { emulator, name in
            SandboxState.ProxyNode(
                name: name,
                admin: .init(
                    host: "127.0.0.1",
                    port: emulator.adminPort,
                    user: emulator.configuration.adminUser,
                    passwordFile: "secrets/proxysql-admin.password"
                ),
                dataPorts: Dictionary(uniqueKeysWithValues: emulator.hostgroupPorts.map { ("\($0.key)", $0.value) })
            )
        }
    }

    /// The YAML lines of the nodes after the first, under `proxysql.nodes` (each line ends with a newline).
    static func additionalNodesText(_ nodes: [SandboxState.ProxyNode]) -> String {
        nodes.map { node in
            "    \(node.name):\n      host: \(node.admin.host)\n      port: \(node.admin.port)\n"
                + "      user: \(node.admin.user)\n      password-file: \(node.admin.passwordFile)\n"
        }.joined()
    }

    /// Endpoint-table rows of the nodes after the first.
    static func additionalNodeRows(_ state: SandboxState) -> [[String]] {
        (state.additionalProxyNodes ?? []).flatMap { node -> [[String]] in
            [["ProxySQL emulator admin (\(node.name))", "127.0.0.1:\(node.admin.port)", node.admin.user, node.admin.passwordFile]]
                + node.dataPorts.sorted { $0.key < $1.key }.map { hostgroup, port in
                    ["ProxySQL emulator data (\(node.name)), hostgroup \(hostgroup)", "127.0.0.1:\(port)", state.application.user, state.application.passwordFile]
                }
        }
    }
}
