import Atomics

/// Connections opened to the backends of one service in one cluster, counted as they open:
/// what the dashboard samples every second, without visiting every backend (a service may
/// have thousands across the mesh). Also where their connect times are reported (the
/// connect-latency histogram has the same labels), once per service and cluster rather than
/// once per backend.
///
/// Threading: incremented with relaxed atomics from any event loop; read from any task.
public final class ConnectionTally: Sendable {
    private let opened = ManagedAtomic<Int>(0)
    /// Told how long each successful dial took.
    private let connectObserver: (@Sendable (Duration) -> Void)?

    public init(connectObserver: (@Sendable (Duration) -> Void)? = nil) {
        self.connectObserver = connectObserver
    }

    /// Connections opened since the agent started.
    public var total: Int { opened.load(ordering: .relaxed) }

    func flowOpened() {
        opened.wrappingIncrement(ordering: .relaxed)
    }

    func connectionOpened(after connectTime: Duration) {
        opened.wrappingIncrement(ordering: .relaxed)
        connectObserver?(connectTime)
    }
}
