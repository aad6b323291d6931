import Atomics

/// Holds the current route of one listener; the reconciler swaps it, connections read it.
///
/// Threading: a single atomic reference, safe from any thread; no lock on the accept path.
public final class RouteSlot: Sendable {
    private let current: ManagedAtomic<FrontendRoute>

    public init(_ route: FrontendRoute) {
        self.current = ManagedAtomic(route)
    }

    public var route: FrontendRoute { current.load(ordering: .acquiring) }

    public func publish(_ route: FrontendRoute) {
        current.store(route, ordering: .releasing)
    }
}
