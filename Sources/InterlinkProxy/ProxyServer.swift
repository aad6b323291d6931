import Atomics
import InterlinkCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The TCP data plane: one listener per frontend, each routing from its `RouteSlot`.
///
/// Threading: the control-plane methods (`apply`, `stopAccepting`) may be called from any
/// task; connections run on the event loops and only read route slots.
public final class ProxyServer: ProxyDataPlane {
    struct Listener {
        let channel: Channel
        let slot: RouteSlot
    }

    private let group: EventLoopGroup
    private let settings: ProxySettings
    private let logger: Logger
    private let dialer: BackendDialer
    private let listeners = NIOLockedValueBox<[Frontend: Listener]>([:])
    private let openCounter = ManagedAtomic<Int>(0)

    public init(group: EventLoopGroup, settings: ProxySettings, logger: Logger, reportFailure: @escaping PassiveFailureReporter) {
        self.group = group
        self.settings = settings
        self.logger = logger
        self.dialer = BackendDialer(group: group, settings: settings, reportFailure: reportFailure, logger: logger)
    }

    /// Client connections open now.
    public var openConnections: Int { openCounter.load(ordering: .relaxed) }
    /// Makes the listeners match `routes`: binds new frontends, publishes new routes to
    /// existing ones, closes the listeners of frontends that are gone (their open connections
    /// stay). Throws, naming the frontend, when a bind fails; the others are still applied.
    public func apply(_ routes: [FrontendRoute]) async throws {
        let wanted = Dictionary(routes.map { ($0.frontend, $0) }, uniquingKeysWith: { first, _ in first })
        let (toClose, toBind) = listeners.withLockedValue { current -> ([Listener], [FrontendRoute]) in
            var toBind: [FrontendRoute] = []
            for (frontend, route) in wanted {
                if let listener = current[frontend] { listener.slot.publish(route) } else { toBind.append(route) }
            }
            let gone = current.keys.filter { wanted[$0] == nil }
            let closing = gone.compactMap { current.removeValue(forKey: $0) }
            return (closing, toBind)
        }
        for listener in toClose {
            try? await listener.channel.close()
        }
        var failures: [String] = []
        for route in toBind {
            do {
                let slot = RouteSlot(route)
                let channel = try await bind(route.frontend, slot: slot)
                listeners.withLockedValue { $0[route.frontend] = Listener(channel: channel, slot: slot) }
                logger.info("listening", metadata: ["service": "\(route.service)", "frontend": "\(route.frontend)"])
            } catch {
                failures.append("cannot listen on \(route.frontend) for Service \(route.service): \(networkErrorText(error))")
            }
        }
        if !failures.isEmpty { throw ProxyError.bindFailed(failures) }
    }

    /// Binds the frontends not listening yet, each with a route that has no backend until
    /// `publish` gives it one. If any cannot be bound, closes those bound here and throws,
    /// naming each failure.
    public func listen(_ frontends: [Frontend: ServiceName]) async throws {
        let missing = listeners.withLockedValue { current in frontends.filter { current[$0.key] == nil } }
        var bound: [Frontend: Listener] = [:]
        var failures: [String] = []
        for (frontend, service) in missing.sorted(by: { $0.key < $1.key }) {
            let slot = RouteSlot(FrontendRoute(service: service, frontend: frontend, backends: [], algorithm: .random, affinity: nil))
            do {
                bound[frontend] = Listener(channel: try await bind(frontend, slot: slot), slot: slot)
            } catch {
                failures.append("cannot listen on \(frontend) for Service \(service): \(networkErrorText(error))")
            }
        }
        guard failures.isEmpty else {
            for listener in bound.values { try? await listener.channel.close() }
            throw ProxyError.bindFailed(failures)
        }
        listeners.withLockedValue { current in current.merge(bound) { existing, _ in existing } }
        for (frontend, service) in missing { logger.info("listening", metadata: ["service": "\(service)", "frontend": "\(frontend)"]) }
    }

    /// Publishes new routes to frontends already listening; others are ignored. Synchronous:
    /// the next accepted connection sees the new route.
    public func publish(_ routes: [FrontendRoute]) {
        listeners.withLockedValue { current in
            for route in routes {
                current[route.frontend]?.slot.publish(route)
            }
        }
    }

    private func bind(_ frontend: Frontend, slot: RouteSlot) async throws -> Channel {
        guard frontend.transport == .tcp else { throw ProxyError.needsEpoll }
        let dialer = self.dialer
        let open = openCounter
        let (limit, logger) = (settings.maxConnections, logger.with(frontend: frontend))
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: settings.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGate(open: open, limit: limit, logger: logger))
                }
            }
            .childChannelInitializer { channel in
                open.wrappingIncrement(ordering: .relaxed)
                channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
                return channel.eventLoop.makeCompletedFuture {
                    // Set here, not as a child option: no future chain per connection.
                    try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                    try channel.pipeline.syncOperations.addHandler(ConnectionStarter(slot: slot, dialer: dialer))
                }
            }
            .bind(host: frontend.endpoint.ip.description, port: Int(frontend.endpoint.port))
            .get()
    }

    /// Closes every listener: no new connection is accepted; open ones go on.
    public func stopAccepting() async {
        let all = listeners.withLockedValue { current -> [Listener] in
            defer { current.removeAll() }
            return Array(current.values)
        }
        for listener in all {
            try? await listener.channel.close()
        }
    }

    /// The event loops belong to the agent, which shuts them down.
    public func shutdown() async {}
}

public enum ProxyError: Error, CustomStringConvertible {
    case bindFailed([String])
    /// A UDP frontend on the SwiftNIO data plane.
    case needsEpoll

    public var description: String {
        switch self {
        case .bindFailed(let failures): failures.joined(separator: "; ")
        case .needsEpoll: "UDP services need the Linux data plane (--data-plane epoll)"
        }
    }
}

extension Logger {
    fileprivate func with(frontend: Frontend) -> Logger {
        var logger = self
        logger[metadataKey: "frontend"] = "\(frontend)"
        return logger
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(Int64(clamping: duration.nanoseconds))
    }
}
