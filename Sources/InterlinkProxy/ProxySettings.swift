/// Data-plane tuning, all with production defaults.
public struct ProxySettings: Sendable {
    /// How long a dial to a backend may take before it counts as failed.
    public var connectTimeout: Duration = .seconds(2)
    /// Backends tried per client connection (never the same one twice).
    public var maxAttempts = 3
    /// A connection with no traffic in either direction for this long is closed.
    public var idleTimeout: Duration = .seconds(3600)
    /// Client connections open at once over every frontend; past it, new ones wait in the
    /// backlog. The agent sets it from the descriptor limit (`FileDescriptorBudget`).
    public var maxConnections = 1 << 20
    /// Listen backlog of every frontend socket.
    public var backlog: Int32 = 4096

    public init() {}
}

extension Duration {
    /// Whole nanoseconds, at least 1 and at most about 292 years.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 1 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max / 2 : max(1, whole + UInt64(attoseconds / 1_000_000_000))
    }
}
