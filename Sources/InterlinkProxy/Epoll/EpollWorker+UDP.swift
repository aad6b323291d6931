#if os(Linux)
import CInterlinkLinux
import Glibc
import InterlinkCore
import Logging

/// UDP global services: each client (address and port, per frontend) is a flow pinned to a
/// backend chosen as for a TCP connection, through a socket connected to that backend; its
/// replies go back from the frontend socket, so the client sees the frontend's address. A
/// flow ends after the Service's `interlink.io/udp-flow-timeout` without a datagram either
/// way, when its backend refuses (ICMP port unreachable: a passive failure), or when the
/// route no longer lists its backend (the next datagram picks again: failover).
extension EpollWorker {
    /// Datagrams read from one socket before the loop turns to the others.
    static let datagramsPerTurn = 64

    mutating func udpDatagrams(listener fd: Int32) {
        guard let listener = listeners[slots[Int(fd)].listener] else { return }
        var address = sockaddr_storage()
        for _ in 0..<Self.datagramsPerTurn {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, scratch, Self.scratchSize, 0, $0, &length) }
            }
            if count < 0 {
                let code = errno
                if code == EAGAIN { return }
                if code == EINTR { continue }
                logRateLimited("reading a UDP frontend failed", ["frontend": "\(listener.slot.route.frontend)", "error": "\(errnoText(code))"])
                return
            }
            guard let key = withUnsafePointer(to: &address, { FlowKey(listener: fd, $0) }) else { continue }
            let route = listener.slot.route
            var flow = udpFlows[key] ?? -1
            if flow >= 0, slots[Int(flow)].route !== route {
                // A new route: the flow keeps its backend while the route still lists it.
                if let backend = slots[Int(flow)].backend, route.backends.contains(where: { $0 === backend || $0.endpoint == backend.endpoint }) {
                    slots[Int(flow)].route = route
                } else {
                    closeFlow(flow)
                    flow = -1
                }
            }
            if flow < 0 {
                flow = openFlow(key, listener: fd, route: route)
                guard flow >= 0 else { continue }
            }
            slots[Int(flow)].lastActive = now
            slots[Int(flow)].unreportedFromClient += count
            if slots[Int(flow)].unreportedFromClient >= Self.reportEvery { reportFlowBytes(flow) }
            if send(flow, scratch, count, Int32(MSG_NOSIGNAL)) < 0 {
                let code = errno
                // A refusal left by an earlier datagram's ICMP error: the backend does not serve.
                if code == ECONNREFUSED { flowRefused(flow, code: code) }
            }
        }
        deferred.append((fd, slots[Int(fd)].generation))
    }

    /// A new flow for `key`: a socket connected to the backend the route picks; -1 when there
    /// is no backend or no room (the datagram is dropped, as a full UDP path would).
    private mutating func openFlow(_ key: FlowKey, listener: Int32, route: FrontendRoute) -> Int32 {
        if udpFlows.count >= maxFlows { evictIdleFlows() }
        guard udpFlows.count < maxFlows else {
            logRateLimited("too many UDP flows; dropping datagrams of new ones", ["limit": "\(maxFlows)"])
            return -1
        }
        let client = route.algorithm == .maglev || route.affinity != nil ? key.endpoint : nil
        guard let backend = route.pick(client: client, excluding: []) else {
            logRateLimited("no backend for a UDP flow; dropping its datagrams", ["service": "\(route.service)", "frontend": "\(route.frontend)"])
            return -1
        }
        let address = backend.rawAddress
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            logRateLimited("cannot open a UDP flow: this process is out of resources", ["error": "\(errnoText(errno))"])
            return -1
        }
        ensureSlot(fd)
        slots[Int(fd)].reset()
        slots[Int(fd)].role = .udpFlow
        slots[Int(fd)].peer = listener
        slots[Int(fd)].route = route
        slots[Int(fd)].backend = backend
        slots[Int(fd)].flowClient = key
        slots[Int(fd)].lastActive = now
        let connected = address.withSockAddr { Glibc.connect(fd, $0, $1) } == 0 ? 0 : errno
        let registered = connected == 0 ? register(fd, edgeTriggered: CInterlinkEpollIn) : connected
        guard registered == 0 else {
            close(fd)
            slots[Int(fd)].reset()
            report(backend, route: route, reason: "UDP to \(backend.endpoint) failed: \(errnoText(registered))", error: errnoText(registered))
            return -1
        }
        udpFlows[key] = fd
        backend.stats.flowOpened()
        schedule(.idle, fd: fd, at: now + route.udpFlowTimeout.nanoseconds)
        return fd
    }

    /// Replies from a flow's backend, sent on to its client from the frontend socket.
    mutating func udpReplies(flow fd: Int32) {
        let listener = slots[Int(fd)].peer
        guard let client = slots[Int(fd)].flowClient else { return closeFlow(fd) }
        for _ in 0..<Self.datagramsPerTurn {
            let count = recv(fd, scratch, Self.scratchSize, 0)
            if count < 0 {
                let code = errno
                if code == EAGAIN { return }
                if code == EINTR { continue }
                return flowRefused(fd, code: code)
            }
            slots[Int(fd)].lastActive = now
            slots[Int(fd)].unreported += count
            if slots[Int(fd)].unreported >= Self.reportEvery { reportFlowBytes(fd) }
            _ = client.withSockAddr { sendto(listener, scratch, count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
        deferred.append((fd, slots[Int(fd)].generation))
    }

    /// The backend refused the flow's datagrams: a passive failure; the client's next datagram
    /// starts a flow to another backend.
    private mutating func flowRefused(_ fd: Int32, code: Int32) {
        if let backend = slots[Int(fd)].backend, let route = slots[Int(fd)].route {
            let text = errnoText(code)
            report(backend, route: route, reason: "UDP to \(backend.endpoint) refused: \(text)", error: text)
        }
        closeFlow(fd)
    }

    private mutating func report(_ backend: RouteBackend, route: FrontendRoute, reason: String, error: String) {
        backend.stats.dialFailed()
        logRateLimited("backend refused UDP; its flows move", ["service": "\(route.service)", "backend": "\(backend.endpoint)", "error": "\(error)"])
        context.reportFailure(route.service, backend.endpoint, backend.cluster, reason)
    }

    mutating func udpFlowDeadline(_ fd: Int32) {
        guard let timeout = slots[Int(fd)].route?.udpFlowTimeout.nanoseconds else { return closeFlow(fd) }
        let due = slots[Int(fd)].lastActive + timeout
        if now >= due { return closeFlow(fd) }
        schedule(.idle, fd: fd, at: due)
    }

    /// Adds a flow's bytes either way to its backend's counters.
    mutating func reportFlowBytes(_ fd: Int32) {
        guard let backend = slots[Int(fd)].backend else { return }
        if slots[Int(fd)].unreportedFromClient > 0 { backend.stats.addBytes(slots[Int(fd)].unreportedFromClient, fromClient: true) }
        if slots[Int(fd)].unreported > 0 { backend.stats.addBytes(slots[Int(fd)].unreported, fromClient: false) }
        slots[Int(fd)].unreportedFromClient = 0
        slots[Int(fd)].unreported = 0
    }

    mutating func closeFlow(_ fd: Int32) {
        if let key = slots[Int(fd)].flowClient, udpFlows[key] == fd { udpFlows[key] = nil }
        reportFlowBytes(fd)
        slots[Int(fd)].backend?.stats.connectionClosed()
        close(fd)
        slots[Int(fd)].reset()
    }

    /// The flow table is full: ends early the flows idle for half their timeout or more (as
    /// conntrack drops old entries first), at most once per 50 ms so that a flood of new
    /// clients costs one pass over the table, not one per datagram.
    mutating func evictIdleFlows() {
        guard now &- lastEviction >= 50_000_000 else { return }
        lastEviction = now
        for fd in udpFlows.values {
            let timeout = slots[Int(fd)].route?.udpFlowTimeout.nanoseconds ?? 0
            if now &- slots[Int(fd)].lastActive >= timeout / 2 { closeFlow(fd) }
        }
    }

    /// Closes every flow answered through the frontend socket `listener`.
    mutating func closeFlows(of listener: Int32) {
        for fd in udpFlows.values where slots[Int(fd)].peer == listener { closeFlow(fd) }
    }

    func logRateLimited(_ message: Logger.Message, _ metadata: Logger.Metadata) {
        logLimiter.allow(now) { logger.warning(message, metadata: metadata) }
    }
}

/// At most one log line a second from a loop's hot paths.
final class LogLimiter {
    private var last: UInt64 = 0

    func allow(_ now: UInt64, _ log: () -> Void) {
        guard now &- last > 1_000_000_000 else { return }
        last = now
        log()
    }
}
#endif
