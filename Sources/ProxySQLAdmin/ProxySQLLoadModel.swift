/// What ProxySQL's `LOAD MYSQL SERVERS TO RUNTIME` does to the server rows, as one pure model: the configured rows
/// are copied to runtime, minus the `OFFLINE_HARD` ones, which ProxySQL keeps out of `runtime_mysql_servers`
/// (``BackendStatus/isPresentInRuntime``).
///
/// The dry run (`DryRunProxySQLNode` in Cutover) and the test fake (`RecordingProxySQLAdmin` in
/// `_CutoverTestSupport`) both load through it, so they cannot drift apart. The ProxySQL emulator in CutoverSandbox
/// keeps its own implementation on purpose: that module does not depend on this one, and the emulator is the
/// independent check of this model (the suite that runs against a real ProxySQL keeps the emulator honest).
public enum ProxySQLLoadModel {
    /// The rows of `runtime_mysql_servers` after a LOAD of `configured` (the rows of `mysql_servers`), in
    /// `configured`'s order.
    public static func runtimeServers(loading configured: [BackendServer]) -> [BackendServer] {
        configured.filter { $0.status.isPresentInRuntime }
    }
}
