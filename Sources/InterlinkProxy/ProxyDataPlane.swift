import InterlinkCore

/// A data plane as the agent drives it: listeners that take routes (`RouteTarget`), a
/// connection count, and a drain. `EpollProxy` (Linux, the default) and `ProxyServer`
/// (SwiftNIO) are the two.
public protocol ProxyDataPlane: AnyObject, RouteTarget {
    /// Client connections open now.
    var openConnections: Int { get }
    /// Closes every listener: no new connection is accepted; open ones go on.
    func stopAccepting() async
    /// Waits until every client connection has closed or `grace` has passed; true if drained.
    func waitForDrain(grace: Duration) async -> Bool
    /// Closes every connection and releases the data plane's threads.
    func shutdown() async
}

/// Which data plane the agent runs (`--data-plane`).
public enum DataPlaneKind: String, Sendable, CaseIterable {
    /// The purpose-built Linux event loops (`EpollProxy`).
    case epoll
    /// SwiftNIO channels (`ProxyServer`).
    case nio

    /// The default of this platform.
    public static var platformDefault: DataPlaneKind {
        #if os(Linux)
        .epoll
        #else
        .nio
        #endif
    }
}

extension ProxyDataPlane {
    public func waitForDrain(grace: Duration) async -> Bool {
        let deadline = ContinuousClock.now + grace
        while openConnections > 0 {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
