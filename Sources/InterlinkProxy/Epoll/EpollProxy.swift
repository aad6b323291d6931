#if os(Linux)
import Atomics
import CInterlinkLinux
import Glibc
import InterlinkCore
import Logging
import NIOConcurrencyHelpers

/// The purpose-built Linux data plane: one thread per event loop, each with its own
/// edge-triggered epoll and its own `SO_REUSEPORT` listener per frontend, so the kernel spreads
/// new connections over the loops and a connection lives on one loop from accept to close.
///
/// The control plane binds listeners here (a bind failure is reported at once, naming the
/// frontend) and hands each loop its socket; routes are published through each frontend's
/// `RouteSlot`, which the loops read once per new connection.
///
/// Threading: every method may be called from any task; the loops own their sockets.
public final class EpollProxy: ProxyDataPlane {
    struct Listener {
        let id: Int
        let slot: RouteSlot
    }

    private let loops: [EpollLoop]
    private let context: EpollContext
    private let logger: Logger
    private let listeners = NIOLockedValueBox<[Frontend: Listener]>([:])
    private let nextID = ManagedAtomic<Int>(0)
    private let stopped = ManagedAtomic(false)

    public init(threads: Int, settings: ProxySettings, logger: Logger, reportFailure: @escaping PassiveFailureReporter) throws {
        let context = EpollContext(settings: settings, logger: logger, loopCount: max(1, threads), reportFailure: reportFailure)
        let loops = try (0..<max(1, threads)).map { try EpollLoop(index: $0, context: context) }
        for loop in loops { try loop.start() }
        self.loops = loops
        self.context = context
        self.logger = logger
    }

    public var openConnections: Int { context.open.load(ordering: .relaxed) }

    // Binding happens under the listeners' lock (bind(2) and listen(2) do not wait), so that
    // a concurrent `listen` or `apply` sees the frontend taken: it cannot bind a second
    // SO_REUSEPORT group beside the first (the kernel would split new connections between
    // them, and one group would keep a route nobody updates).

    public func listen(_ frontends: [Frontend: ServiceName]) async throws {
        let failures = listeners.withLockedValue { current -> [String] in
            var bound: [(Frontend, ServiceName, [Int32])] = []
            var failures: [String] = []
            for (frontend, service) in frontends.sorted(by: { $0.key < $1.key }) where current[frontend] == nil {
                do {
                    bound.append((frontend, service, try bindGroup(frontend)))
                } catch {
                    failures.append("cannot listen on \(frontend) for Service \(service): \(error)")
                }
            }
            guard failures.isEmpty else {
                for (_, _, sockets) in bound { sockets.forEach { close($0) } }
                return failures
            }
            for (frontend, service, sockets) in bound {
                let route = FrontendRoute(service: service, frontend: frontend, backends: [], algorithm: .random, affinity: nil)
                start(frontend, slot: RouteSlot(route), sockets: sockets, in: &current)
            }
            return []
        }
        if !failures.isEmpty { throw ProxyError.bindFailed(failures) }
    }

    public func apply(_ routes: [FrontendRoute]) async throws {
        let wanted = Dictionary(routes.map { ($0.frontend, $0) }, uniquingKeysWith: { first, _ in first })
        let (gone, failures) = listeners.withLockedValue { current -> ([Listener], [String]) in
            let gone = current.keys.filter { wanted[$0] == nil }.compactMap { current.removeValue(forKey: $0) }
            var failures: [String] = []
            for (frontend, route) in wanted.sorted(by: { $0.key < $1.key }) {
                if let listener = current[frontend] {
                    listener.slot.publish(route)
                    continue
                }
                do {
                    start(frontend, slot: RouteSlot(route), sockets: try bindGroup(frontend), in: &current)
                } catch {
                    failures.append("cannot listen on \(frontend) for Service \(route.service): \(error)")
                }
            }
            return (gone, failures)
        }
        for listener in gone { await closeListener(listener.id) }
        if !failures.isEmpty { throw ProxyError.bindFailed(failures) }
    }

    public func publish(_ routes: [FrontendRoute]) {
        listeners.withLockedValue { current in
            for route in routes { current[route.frontend]?.slot.publish(route) }
        }
    }

    public func stopAccepting() async {
        let all = listeners.withLockedValue { current -> [Listener] in
            defer { current.removeAll() }
            return Array(current.values)
        }
        for listener in all { await closeListener(listener.id) }
    }

    public func shutdown() async {
        guard stopped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        await stopAccepting()
        await withTaskGroup(of: Void.self) { group in
            for loop in loops {
                group.addTask { await withCheckedContinuation { done in loop.send(.stop { done.resume() }) } }
            }
        }
    }

    /// An agent that never ran (its set-up failed after the data plane started) still ends its
    /// threads: they hold nothing but their loop.
    deinit {
        if !stopped.load(ordering: .relaxed) {
            for loop in loops { loop.send(.stop(done: {})) }
        }
    }

    /// Records a bound frontend (the caller holds the listeners' lock) and hands each loop its
    /// socket.
    private func start(_ frontend: Frontend, slot: RouteSlot, sockets: [Int32], in current: inout [Frontend: Listener]) {
        let id = nextID.wrappingIncrementThenLoad(ordering: .relaxed)
        current[frontend] = Listener(id: id, slot: slot)
        for (loop, fd) in zip(loops, sockets) { loop.send(.addListener(id: id, fd: fd, slot: slot, transport: frontend.transport)) }
        logger.info("listening", metadata: ["service": "\(slot.route.service)", "frontend": "\(frontend)"])
    }

    /// Closes the listener's socket on every loop, and returns once they all have.
    private func closeListener(_ id: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for loop in loops {
                group.addTask { await withCheckedContinuation { done in loop.send(.removeListener(id: id, done: { done.resume() })) } }
            }
        }
    }

    /// One listening socket per loop on `frontend`, all with `SO_REUSEPORT`.
    ///
    /// `SO_REUSEPORT` would let this group join another process's group on the same address
    /// (another agent of the same user) and split its traffic; a plain bind first fails with
    /// "Address already in use" whenever anything listens there.
    private func bindGroup(_ frontend: Frontend) throws -> [Int32] {
        let udp = frontend.transport == .udp
        if frontend.endpoint.port != 0 {
            close(try ListeningSocket.open(frontend.endpoint, backlog: 0, shared: false, listening: false, datagram: udp))
        }
        var sockets: [Int32] = []
        var address = frontend.endpoint
        do {
            for _ in loops {
                let fd = try ListeningSocket.open(address, backlog: context.settings.backlog, datagram: udp)
                sockets.append(fd)
                // Port 0: the others take the port the kernel gave the first.
                if address.port == 0, let bound = ListeningSocket.localEndpoint(fd) { address = bound }
            }
        } catch {
            sockets.forEach { close($0) }
            throw error
        }
        return sockets
    }
}

/// A frontend's listening socket: non-blocking, `SO_REUSEADDR` and `SO_REUSEPORT`, with
/// `TCP_NODELAY` for the connections it accepts.
enum ListeningSocket {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { errnoText(code) }
    }

    /// `shared`: with `SO_REUSEPORT`; `listening`: listen(2) as well as bind(2); `datagram`: a
    /// UDP socket (bound, never listening).
    static func open(_ endpoint: SocketEndpoint, backlog: Int32, shared: Bool = true, listening: Bool = true, datagram: Bool = false) throws -> Int32 {
        let address = RawSocketAddress(endpoint)
        let kind = datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue
        let fd = socket(address.family, Int32(kind | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        // Not for UDP, where SO_REUSEADDR would let two sockets share a port without asking.
        guard datagram || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0,
            !shared || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, size) == 0,
            datagram || setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, size) == 0,
            address.withSockAddr({ bind(fd, $0, $1) }) == 0,
            datagram || !listening || Glibc.listen(fd, backlog) == 0
        else {
            let code = errno
            close(fd)
            throw Failure(call: "bind", code: code)
        }
        return fd
    }

    static func localEndpoint(_ fd: Int32) -> SocketEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { SocketEndpoint($0) }
    }
}
#endif
