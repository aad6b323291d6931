import InterlinkCore
import Logging
import NIOCore
import NIOPosix

/// Receives a backend dial failure: the passive health signal.
public typealias PassiveFailureReporter = @Sendable (_ service: ServiceName, _ backend: SocketEndpoint, _ cluster: ClusterName, _ reason: String) -> Void

/// Dials a backend for one accepted connection, retrying other eligible backends on failure,
/// then glues the two channels together.
///
/// Threading: everything runs on the client channel's event loop.
struct BackendDialer: Sendable {
    let settings: ProxySettings
    let reportFailure: PassiveFailureReporter
    let logger: Logger
    /// Per event loop: its idle sweep and bootstrap.
    private let shares: [ObjectIdentifier: LoopShare]

    init(group: EventLoopGroup, settings: ProxySettings, reportFailure: @escaping PassiveFailureReporter, logger: Logger) {
        self.settings = settings
        self.reportFailure = reportFailure
        self.logger = logger
        self.shares = LoopShare.make(for: group, settings: settings)
    }

    /// The idle sweep of `loop`, for the connections glued on it; call on that loop.
    func sweep(of loop: EventLoop) -> IdleSweep? {
        shares[ObjectIdentifier(loop)]?.sweep
    }

    /// Dials backends until one answers; calls `connected` with it, or closes the client.
    /// `connected` also gets a way to give up on that backend and dial the next, for a
    /// connection that ends before any byte was exchanged (see `UpstreamProbe`): `failed`
    /// with the reason when the backend reset it, nil when it closed it in order.
    func connect(
        client: Channel, route: FrontendRoute, clientEndpoint: SocketEndpoint?, tried: [RouteBackend] = [],
        connected: @escaping (Channel, RouteBackend, _ retry: @escaping (_ failed: String?) -> Void) -> Void
    ) {
        let lastAttempt = tried.count == settings.maxAttempts - 1
        guard tried.count < settings.maxAttempts, let backend = route.pick(client: clientEndpoint, excluding: tried, lastAttempt: lastAttempt) else {
            var metadata: Logger.Metadata = ["service": "\(route.service)", "frontend": "\(route.frontend)"]
            if !tried.isEmpty { metadata["tried"] = "\(tried.map(\.endpoint.description).joined(separator: ","))" }
            logger.warning("no backend could take the connection; closing it", metadata: metadata)
            client.close(promise: nil)
            return
        }
        /// Gives up on `backend` for this connection (counting and reporting a failure when
        /// there is one: its reason and the error), then dials the next.
        func next(failure: (reason: String, error: String, message: Logger.Message)?) {
            if let failure {
                backend.stats.dialFailed()
                logger.warning(failure.message, metadata: [
                    "service": "\(route.service)", "backend": "\(backend.endpoint)", "cluster": "\(backend.cluster)", "error": "\(failure.error)",
                ])
                reportFailure(route.service, backend.endpoint, backend.cluster, failure.reason)
            }
            guard client.isActive else { return }
            connect(client: client, route: route, clientEndpoint: clientEndpoint, tried: tried + [backend], connected: connected)
        }
        let started = NIODeadline.now()
        let bootstrap = shares[ObjectIdentifier(client.eventLoop)]?.bootstrap ?? ClientBootstrap(group: client.eventLoop)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.allowRemoteHalfClosure, value: true)
        bootstrap
            .connect(to: backend.socketAddress)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    backend.stats.connectionOpened(after: .nanoseconds((NIODeadline.now() - started).nanoseconds))
                    upstream.closeFuture.whenComplete { _ in backend.stats.connectionClosed() }
                    guard client.isActive else {
                        upstream.close(promise: nil)
                        return
                    }
                    connected(upstream, backend) { failed in
                        next(failure: failed.map {
                            ("connection to \(backend.endpoint) reset before any byte: \($0)", $0, "backend reset a new connection; trying another")
                        })
                    }
                case .failure(let error) where isLocalExhaustion(error):
                    // Out of descriptors here: not the backend's fault, and no retry would fare better.
                    logger.error("cannot dial a backend: this process is out of resources; closing the client", metadata: [
                        "service": "\(route.service)", "backend": "\(backend.endpoint)", "error": "\(networkErrorText(error))",
                    ])
                    client.close(promise: nil)
                case .failure(let error):
                    let text = networkErrorText(error)
                    next(failure: ("connect to \(backend.endpoint) failed: \(text)", text, "backend dial failed; trying another"))
                }
            }
    }
}
