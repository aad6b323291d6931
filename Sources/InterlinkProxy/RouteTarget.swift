import InterlinkCore

/// What the route reconciler drives: the data plane, seen as listeners that take routes.
/// Every `ProxyDataPlane` is one; component tests use one that records what it was given.
public protocol RouteTarget: Sendable {
    /// Binds the frontends that are not listening yet, with no backend until their routes are
    /// published. Throws, naming each frontend that cannot be bound, and then leaves none of
    /// the new ones bound.
    func listen(_ frontends: [Frontend: ServiceName]) async throws
    /// Makes the listeners exactly these routes' frontends: publishes each route, closes the
    /// listeners of other frontends (their open connections go on), binds missing ones.
    func apply(_ routes: [FrontendRoute]) async throws
    /// Publishes routes to frontends already listening; the next connection uses them.
    func publish(_ routes: [FrontendRoute])
}
