/// ClientIP session affinity: remembers which backend each client address used last.
///
/// Time is passed in (`now`), never read here. An entry is honoured while its backend is
/// still eligible and less than `timeout` has passed since the client's last connection.
public struct ClientAffinityTable: Sendable {
    public typealias Instant = ContinuousClock.Instant

    struct Entry: Sendable {
        var backend: SocketEndpoint
        var lastUsed: Instant
    }

    public let timeout: Duration
    private var entries: [IPAddress: Entry] = [:]

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    public var count: Int { entries.count }

    /// The backend this client is pinned to, if still valid and `isEligible`.
    public func lookup(client: IPAddress, now: Instant, isEligible: (SocketEndpoint) -> Bool) -> SocketEndpoint? {
        guard let entry = entries[client], now - entry.lastUsed < timeout, isEligible(entry.backend) else {
            return nil
        }
        return entry.backend
    }

    public mutating func record(client: IPAddress, backend: SocketEndpoint, now: Instant) {
        entries[client] = Entry(backend: backend, lastUsed: now)
    }

    /// Drops entries older than the timeout; call now and then to bound memory.
    public mutating func expire(now: Instant) {
        entries = entries.filter { now - $0.value.lastUsed < timeout }
    }
}
