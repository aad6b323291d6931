import Atomics
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCertificateReloading
import NIOCore
import ServiceLifecycle

/// The embedded store served with etcd's own protocol, gRPC over HTTP/2 (`etcdserverpb.KV`,
/// `Watch`, `Lease`, `Cluster`, `Maintenance`), in plaintext, TLS or mutual TLS, so that
/// etcdctl, Cilium's agents and other Interlink agents read it as they read an etcd.
///
/// Bounded: at most `maxConnections` connections at once (more are closed as they come), idle
/// connections closed after `idleTimeout`, 4 MiB
/// per request as etcd's 1.5 MiB plus room, a limit on concurrent streams per connection, and
/// keepalive pings that drop peers that have gone.
public struct StoreServer: Service {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess
    let host: String
    let port: Int
    let tls: MeshServerTLS?
    let maxConnections: Int
    let idleTimeout: Duration
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void

    public static let maximumRequestBytes = 4 << 20
    public static let maximumStreamsPerConnection = 4096

    public init(
        store: EmbeddedStore, identity: StoreIdentity, access: MeshAccess, host: String, port: Int, tls: MeshServerTLS?,
        maxConnections: Int = HTTPServerLimits.mesh.maxConnections, idleTimeout: Duration = HTTPServerLimits.mesh.idleTimeout, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.identity = identity
        self.access = access
        self.host = host
        self.port = port
        self.tls = tls
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.logger = logger
        self.onRunning = onRunning
    }

    public func run() async throws {
        let reloader = try tls?.makeReloader(logger: logger)
        let security: HTTP2ServerTransport.Posix.TransportSecurity = try reloader.map { try tls!.transportSecurity($0) } ?? .plaintext
        let open = ManagedAtomic(0)
        let limit = maxConnections
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000)
        let logger = self.logger
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: security,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = Self.maximumRequestBytes
                config.http2.maxConcurrentStreams = Self.maximumStreamsPerConnection
                // A connection with no call open (a silent one, too) is closed after this long;
                // a watch or keep-alive stream being open is not idle.
                config.connection.maxIdleTime = idleTimeout
                config.connection.keepalive = .init(
                    time: .seconds(30), timeout: .seconds(10),
                    clientBehavior: .init(minPingIntervalWithoutCalls: .seconds(5), allowWithoutCalls: true))
                config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    if open.loadThenWrappingIncrement(ordering: .relaxed) >= limit {
                        open.wrappingDecrement(ordering: .relaxed)
                        logger.warning("mesh port: connection refused, \(limit) are open (--mesh-max-connections)")
                        return channel.close()
                    }
                    channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SilenceDeadline(timeout: idle), position: .first)
                    }
                }
            })
        let services: [any RegistrableRPCService] = [
            StoreKVService(store: store, identity: identity, access: access),
            StoreWatchService(store: store, identity: identity, access: access),
            StoreLeaseService(store: store, identity: identity, access: access),
            StoreClusterService(store: store, identity: identity, access: access),
            StoreMaintenanceService(store: store, identity: identity, access: access),
            StoreAuthService(),
        ]
        let server = GRPCServer(transport: transport, services: services)
        do {
            try await serve(server, transport: transport, reloader: reloader)
        } catch is ShutdownGraceOver {}
    }

    /// Thrown when open streams (watches, keep-alives) outlive the shutdown grace: they are
    /// then closed.
    private struct ShutdownGraceOver: Error {}

    private func serve(_ server: GRPCServer<HTTP2ServerTransport.Posix>, transport: HTTP2ServerTransport.Posix, reloader: TimedCertificateReloader?) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await server.serve()
                throw ShutdownGraceOver()  // served to the end: stop the reloader and the shutdown wait
            }
            if let reloader { group.addTask { try await reloader.run() } }
            group.addTask {
                guard let address = try? await transport.listeningAddress else { return }
                await onRunning(address.ipv4?.port ?? address.ipv6?.port ?? port)
            }
            group.addTask {
                try? await gracefulShutdown()
                server.beginGracefulShutdown()
                try? await Task.sleep(for: .seconds(1))
                throw ShutdownGraceOver()
            }
        }
    }
}

/// Closes a connection that sends nothing at all within `timeout` (gRPC's idle timer only
/// starts once the HTTP/2 preface has come, so a silent peer would hold its place forever).
final class SilenceDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }
}
