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
    /// Counts this backend's connections in its service and cluster too, and takes their
    /// connect times.
    private let tally: ConnectionTally?

    public init(tally: ConnectionTally? = nil) {
        self.tally = tally
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

    /// A dial succeeded after `connectTime`: the connection is open.
    func connectionOpened(after connectTime: Duration) {
        activeCounter.wrappingIncrement(ordering: .relaxed)
        totalCounter.wrappingIncrement(ordering: .relaxed)
        tally?.connectionOpened(after: connectTime)
    }

    /// A UDP flow started: counted as a connection, with no connect time to report.
    func flowOpened() {
        activeCounter.wrappingIncrement(ordering: .relaxed)
        totalCounter.wrappingIncrement(ordering: .relaxed)
        tally?.flowOpened()
    }

    func connectionClosed() {
        activeCounter.wrappingDecrement(ordering: .relaxed)
    }

    func dialFailed() {
        failedCounter.wrappingIncrement(ordering: .relaxed)
    }
}
