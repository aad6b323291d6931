import Atomics

/// Connection counters of one backend, shared by every route that lists it.
///
/// Threading: updated with relaxed atomics from any event loop; read by the API.
public final class BackendStats: Sendable {
    private let activeCounter = ManagedAtomic<Int>(0)
    private let totalCounter = ManagedAtomic<Int>(0)
    private let failedCounter = ManagedAtomic<Int>(0)
    private let receivedCounter = ManagedAtomic<Int>(0)
    private let sentCounter = ManagedAtomic<Int>(0)
    /// Told how long each successful dial took (the connect-latency histogram).
    private let connectObserver: (@Sendable (Duration) -> Void)?

    public init(connectObserver: (@Sendable (Duration) -> Void)? = nil) {
        self.connectObserver = connectObserver
    }

    /// Connections open to the backend now.
    public var active: Int { activeCounter.load(ordering: .relaxed) }
    /// Connections established to the backend since the agent started.
    public var total: Int { totalCounter.load(ordering: .relaxed) }
    /// Dials to the backend that failed.
    public var failedDials: Int { failedCounter.load(ordering: .relaxed) }
    /// Bytes received from clients and forwarded to the backend.
    public var bytesReceived: Int { receivedCounter.load(ordering: .relaxed) }
    /// Bytes the backend answered, sent on to clients.
    public var bytesSent: Int { sentCounter.load(ordering: .relaxed) }

    /// Adds bytes forwarded one way: from the client (`fromClient`) or to it.
    func addBytes(_ count: Int, fromClient: Bool) {
        (fromClient ? receivedCounter : sentCounter).wrappingIncrement(by: count, ordering: .relaxed)
    }

    func connected(after duration: Duration) {
        connectObserver?(duration)
    }

    func connectionOpened() {
        activeCounter.wrappingIncrement(ordering: .relaxed)
        totalCounter.wrappingIncrement(ordering: .relaxed)
    }

    func connectionClosed() {
        activeCounter.wrappingDecrement(ordering: .relaxed)
    }

    func dialFailed() {
        failedCounter.wrappingIncrement(ordering: .relaxed)
    }
}
