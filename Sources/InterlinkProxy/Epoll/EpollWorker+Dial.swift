#if os(Linux)
import CInterlinkLinux
import Glibc
import InterlinkCore
import Logging

/// Accepting clients and dialling their backends: up to `maxAttempts` distinct backends per
/// connection, each failure reported as passive health, and a backend connection reset before
/// any byte retried on the next (nothing has reached either side yet).
extension EpollWorker {
    static let socketEvents = CInterlinkEpollIn | CInterlinkEpollOut | CInterlinkEpollRdHup

    mutating func acceptConnections(listener fd: Int32) {
        guard let listener = listeners[slots[Int(fd)].listener] else { return }
        let limit = context.settings.maxConnections
        var address = sockaddr_storage()
        for _ in 0..<Self.acceptsPerTurn {
            if context.open.load(ordering: .relaxed) >= limit {
                // New clients wait in the listen backlog, holding no descriptor here.
                if !limitLogged {
                    limitLogged = true
                    logger.warning("connection limit reached; new connections wait in the listen backlog", metadata: ["limit": "\(limit)"])
                }
                schedule(.acceptRetry, fd: fd, at: now + Self.acceptRetry)
                return
            }
            limitLogged = false
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                }
            }
            if client < 0 {
                let code = errno
                switch code {
                case EAGAIN: return
                case EINTR, ECONNABORTED, EPROTO: continue
                default:
                    if now &- acceptErrorLogged > 1_000_000_000 {
                        acceptErrorLogged = now
                        logger.error("accepting a connection failed", metadata: ["frontend": "\(listener.slot.route.frontend)", "error": "\(errnoText(code))"])
                    }
                    schedule(.acceptRetry, fd: fd, at: now + Self.acceptRetry)
                    return
                }
            }
            context.open.wrappingIncrement(ordering: .relaxed)
            ensureSlot(client)
            slots[Int(client)].reset()
            slots[Int(client)].role = .client
            slots[Int(client)].lastActive = now
            let route = listener.slot.route
            if route.algorithm == .maglev || route.affinity != nil {
                slots[Int(client)].clientEndpoint = withUnsafePointer(to: &address) { SocketEndpoint($0) }
            }
            slots[Int(client)].route = route
            let failure = register(client, edgeTriggered: Self.socketEvents)
            guard failure == 0 else {
                logger.error("cannot watch a client connection; closing it", metadata: ["error": "\(errnoText(failure))"])
                closeConnection(client)
                continue
            }
            schedule(.idle, fd: client, at: now + context.idleTimeout)
            dial(for: client)
            // Most clients speak first and have by now: read at once rather than after another
            // epoll_wait (one EAGAIN when they have not).
            if slots[Int(client)].role == .client {
                slots[Int(client)].readable = true
                pump(from: client)
            }
        }
        // More may be waiting: come back after the other sockets have had a turn.
        deferred.append((fd, slots[Int(fd)].generation))
    }

    /// Dials the next backend for `client`, carrying the bytes it sent so far; closes the client
    /// when no backend is left to try.
    mutating func dial(for client: Int32, carrying held: (UnsafeMutableRawPointer, Int, Int)? = nil) {
        guard let route = slots[Int(client)].route else { return closeConnection(client) }
        let tried = slots[Int(client)].tried
        let attempts = context.settings.maxAttempts
        guard tried.count < attempts,
            let backend = route.pick(client: slots[Int(client)].clientEndpoint, excluding: tried, lastAttempt: tried.count == attempts - 1)
        else {
            var metadata: Logger.Metadata = ["service": "\(route.service)", "frontend": "\(route.frontend)"]
            if !tried.isEmpty { metadata["tried"] = "\(tried.map(\.endpoint.description).joined(separator: ","))" }
            logger.warning("no backend could take the connection; closing it", metadata: metadata)
            if let held { releaseChunk(held.0) }
            return closeConnection(client)
        }
        slots[Int(client)].backend = backend
        let address = backend.rawAddress
        let upstream = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else {
            let code = errno
            logger.error("cannot dial a backend: this process is out of resources; closing the client", metadata: [
                "service": "\(route.service)", "backend": "\(backend.endpoint)", "error": "\(errnoText(code))",
            ])
            if let held { releaseChunk(held.0) }
            return closeConnection(client)
        }
        var one: Int32 = 1
        setsockopt(upstream, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        ensureSlot(upstream)
        slots[Int(upstream)].reset()
        slots[Int(upstream)].role = .upstream
        slots[Int(upstream)].peer = client
        slots[Int(upstream)].connecting = true
        slots[Int(upstream)].dialStarted = now
        slots[Int(upstream)].deadline = now + context.connectTimeout
        if let held {
            slots[Int(upstream)].pending = held.0
            slots[Int(upstream)].pendingStart = held.1
            slots[Int(upstream)].pendingEnd = held.2
        }
        slots[Int(client)].peer = upstream
        let result = address.withSockAddr { connect(upstream, $0, $1) }
        let code = result == 0 ? 0 : errno
        guard code == 0 || code == EINPROGRESS else {
            return dialFailed(upstream, code: code)
        }
        let failure = register(upstream, edgeTriggered: Self.socketEvents)
        guard failure == 0 else { return dialFailed(upstream, code: failure) }
        schedule(.connect, fd: upstream, at: slots[Int(upstream)].deadline)
        if code == 0 {
            connected(upstream)
        } else if held != nil {
            sendEarly(upstream)
        }
    }

    /// Sends the client's held bytes on an upstream whose connect has not been reported yet:
    /// on loopback and nearby hosts the handshake is often done by the time connect(2)
    /// returns, and the bytes go out without waiting for EPOLLOUT. Nothing happens (one
    /// EAGAIN) while the handshake is still under way.
    mutating func sendEarly(_ upstream: Int32) {
        guard let chunk = slots[Int(upstream)].pending else { return }
        let start = slots[Int(upstream)].pendingStart, end = slots[Int(upstream)].pendingEnd
        let sent = send(upstream, chunk + start, end - start, Int32(MSG_NOSIGNAL))
        guard sent > 0 else { return }
        slots[Int(upstream)].pendingStart = start + sent
        if slots[Int(upstream)].pendingStart == end {
            slots[Int(upstream)].pending = nil
            slots[Int(upstream)].pendingStart = 0
            releaseChunk(chunk)
        }
        connected(upstream)
    }

    /// The upstream's connect completed (its first EPOLLOUT, or a send that went through).
    mutating func connected(_ upstream: Int32) {
        let client = slots[Int(upstream)].peer
        guard slots[Int(upstream)].connecting else { return }
        slots[Int(upstream)].connecting = false
        slots[Int(upstream)].opened = true
        slots[Int(upstream)].writable = true
        slots[Int(client)].backend?.stats.connectionOpened(after: .nanoseconds(Int64(now &- slots[Int(upstream)].dialStarted)))
        if slots[Int(upstream)].hasPending {
            // The client's first bytes: from now on a retry could send them twice.
            flushPending(upstream)
        } else if slots[Int(client)].unreported > 0 {
            // The client's bytes went out early (`sendEarly`): in use already; the client's
            // reading resumes.
            let generation = slots[Int(upstream)].generation
            if slots[Int(client)].readable { pump(from: client) }
            if slots[Int(upstream)].generation == generation, slots[Int(client)].inputEnded, !slots[Int(upstream)].outputShut {
                forwardEnd(to: upstream)
            }
        } else {
            slots[Int(upstream)].probing = true
            schedule(.probe, fd: upstream, at: now + context.probeWindow)
        }
    }

    /// The dial failed with `code`: a local shortage closes the client; anything else is the
    /// backend's failure and the next backend is dialled.
    mutating func dialFailed(_ upstream: Int32, code: Int32) {
        let client = slots[Int(upstream)].peer
        guard !isLocalExhaustion(errno: code) else {
            logger.error("cannot dial a backend: this process is out of resources; closing the client", metadata: [
                "backend": "\(slots[Int(client)].backend?.endpoint.description ?? "-")", "error": "\(errnoText(code))",
            ])
            return closeConnection(client)
        }
        giveUp(upstream, failure: .dial(errnoText(code)))
    }

    /// Why an upstream was given up: a failure of its backend, as passive health sees it.
    enum UpstreamFailure {
        /// The connect failed or timed out.
        case dial(String)
        /// Reset before any byte went either way.
        case reset(String)
    }

    /// Gives up on the upstream for this connection (counting and reporting its failure, if
    /// any) and dials the next backend with the client's held bytes.
    mutating func giveUp(_ upstream: Int32, failure: UpstreamFailure?) {
        let client = slots[Int(upstream)].peer
        guard let backend = slots[Int(client)].backend, let route = slots[Int(client)].route else { return closeConnection(client) }
        if let failure {
            let (error, reason, message): (String, String, Logger.Message) = switch failure {
            case .dial(let error): (error, "connect to \(backend.endpoint) failed: \(error)", "backend dial failed; trying another")
            case .reset(let error): (error, "connection to \(backend.endpoint) reset before any byte: \(error)", "backend reset a new connection; trying another")
            }
            backend.stats.dialFailed()
            logger.warning(message, metadata: [
                "service": "\(route.service)", "backend": "\(backend.endpoint)", "cluster": "\(backend.cluster)", "error": "\(error)",
            ])
            context.reportFailure(route.service, backend.endpoint, backend.cluster, reason)
        }
        let held = slots[Int(upstream)].pending.map { ($0, slots[Int(upstream)].pendingStart, slots[Int(upstream)].pendingEnd) }
        slots[Int(upstream)].pending = nil
        if slots[Int(upstream)].opened { backend.stats.connectionClosed() }
        close(upstream)
        slots[Int(upstream)].reset()
        slots[Int(client)].peer = -1
        slots[Int(client)].tried.append(backend)
        dial(for: client, carrying: held)
    }

    mutating func connectDeadline(_ upstream: Int32) {
        guard slots[Int(upstream)].role == .upstream, slots[Int(upstream)].connecting else { return }
        guard now >= slots[Int(upstream)].deadline else {
            return schedule(.connect, fd: upstream, at: slots[Int(upstream)].deadline)
        }
        giveUp(upstream, failure: .dial("connect timed out after \(context.connectTimeout / 1_000_000) ms"))
    }

    /// Nobody used the new backend connection within the window: it is confirmed.
    mutating func probeWindowEnded(_ upstream: Int32) {
        guard slots[Int(upstream)].role == .upstream, slots[Int(upstream)].probing else { return }
        confirm(upstream)
    }

    mutating func idleDeadline(_ client: Int32) {
        guard slots[Int(client)].role == .client else { return }
        let due = slots[Int(client)].lastActive + context.idleTimeout
        if now >= due { return closeConnection(client) }
        schedule(.idle, fd: client, at: due)
    }

    /// The pending error of a socket whose connect failed.
    func socketError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0, code != 0 else { return ECONNREFUSED }
        return code
    }
}
#endif
