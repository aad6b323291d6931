#if os(Linux)
import CInterlinkLinux
import Glibc
import InterlinkCore
import Logging

/// The state and event handling of one data-plane thread: edge-triggered epoll over every
/// socket the loop owns, one `EPOLL_CTL_ADD` per socket and no modification after it, a
/// per-loop scratch buffer for reads, and a timer wheel for every deadline.
///
/// A value type run by its thread (`EpollLoop.start`): its methods mutate it in place with no
/// locks, no reference counting of per-socket state and no closures per event.
struct EpollWorker {
    static let wakeTag = UInt64.max
    static let scratchSize = 64 * 1024
    static let eventCapacity = 256
    /// Reads from one socket before the loop turns to the others (fairness).
    static let readsPerTurn = 16
    /// Accepts from one listener before the loop turns to the others.
    static let acceptsPerTurn = 64
    /// How soon a listener is tried again when the connection limit or a resource stopped it.
    static let acceptRetry: UInt64 = 20_000_000
    /// The longest epoll_wait, in milliseconds.
    static let commandCheck: Int32 = 100
    /// Bytes counted on a connection before they are added to the backend's shared counters.
    static let reportEvery = 1 << 20

    struct Listener {
        var id: Int
        var fd: Int32
        var slot: RouteSlot
        var transport: TransportProtocol
    }

    let loop: EpollLoop
    let context: EpollContext
    let logger: Logger
    var slots: [SocketSlot] = []
    var listeners: [Listener?] = []
    var wheel: TimerWheel
    var fired: [TimerWheel.Entry] = []
    /// Sockets (and listeners) with more to read than one turn allows.
    var deferred: [(fd: Int32, generation: UInt32)] = []
    let scratch: UnsafeMutableRawPointer
    /// Spare chunks for pending bytes, each `scratchSize`.
    var chunks: [UnsafeMutableRawPointer] = []
    var now: UInt64
    var running = true
    /// UDP flows by client: the socket connected to the flow's backend.
    var udpFlows: [FlowKey: Int32] = [:]
    /// At most this many UDP flows at once on this loop (each holds a descriptor).
    let maxFlows: Int
    var lastEviction: UInt64 = 0
    let logLimiter = LogLimiter()
    var limitLogged = false
    var acceptErrorLogged: UInt64 = 0

    init(loop: EpollLoop) {
        self.loop = loop
        self.context = loop.context
        self.logger = loop.context.logger
        self.now = monotonicNow()
        self.maxFlows = max(64, loop.context.settings.maxConnections / max(1, loop.context.loopCount))
        self.wheel = TimerWheel(now: now)
        self.scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    mutating func run() {
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Self.eventCapacity)
        defer {
            loop.finished()
            events.deallocate()
            scratch.deallocate()
            for chunk in chunks { chunk.deallocate() }
        }
        while running {
            // Never asleep for more than `commandCheck`: a command whose wake-up was missed
            // still runs within that, and an idle loop wakes ten times a second for it.
            let next = wheel.millisecondsToNext(now: now)
            let timeout = deferred.isEmpty ? (next < 0 ? Self.commandCheck : min(next, Self.commandCheck)) : 0
            let count = epoll_wait(loop.epoll, events, Int32(Self.eventCapacity), timeout)
            if count == 0 {
                for command in loop.takeCommands() { handle(command) }
            }
            now = monotonicNow()
            if count < 0 {
                guard errno == EINTR else {
                    logger.critical("epoll_wait failed; the data-plane thread stops", metadata: ["error": "\(errnoText(errno))"])
                    return
                }
                continue
            }
            for position in 0..<Int(count) {
                let event = events[position]
                dispatch(tag: event.data.u64, events: event.events)
            }
            runDeferred()
            runTimers()
        }
    }

    private mutating func dispatch(tag: UInt64, events: UInt32) {
        if tag == Self.wakeTag {
            for command in loop.takeCommands() { handle(command) }
            return
        }
        let fd = Int32(truncatingIfNeeded: tag)
        let generation = UInt32(truncatingIfNeeded: tag >> 32)
        guard Int(fd) < slots.count, slots[Int(fd)].generation == generation else { return }
        switch slots[Int(fd)].role {
        case .listener: acceptConnections(listener: fd)
        case .client, .upstream: socketEvent(fd, events: events)
        case .udpListener: udpDatagrams(listener: fd)
        case .udpFlow: udpReplies(flow: fd)
        case .free: break
        }
    }

    private mutating func runDeferred() {
        guard !deferred.isEmpty else { return }
        let waiting = deferred
        deferred.removeAll(keepingCapacity: true)
        for (fd, generation) in waiting where slots[Int(fd)].generation == generation {
            switch slots[Int(fd)].role {
            case .listener: acceptConnections(listener: fd)
            case .client, .upstream: if slots[Int(fd)].readable { pump(from: fd) }
            case .udpListener: udpDatagrams(listener: fd)
            case .udpFlow: udpReplies(flow: fd)
            case .free: break
            }
        }
    }

    private mutating func runTimers() {
        fired.removeAll(keepingCapacity: true)
        wheel.expire(now: now, into: &fired)
        guard !fired.isEmpty else { return }
        let due = fired
        for entry in due where Int(entry.fd) < slots.count && slots[Int(entry.fd)].generation == entry.generation {
            switch entry.kind {
            case .connect: connectDeadline(entry.fd)
            case .probe: probeWindowEnded(entry.fd)
            case .idle: if slots[Int(entry.fd)].role == .udpFlow { udpFlowDeadline(entry.fd) } else { idleDeadline(entry.fd) }
            case .acceptRetry: if slots[Int(entry.fd)].role == .listener { acceptConnections(listener: entry.fd) }
            }
        }
    }

    mutating func schedule(_ kind: TimerWheel.Kind, fd: Int32, at due: UInt64) {
        wheel.schedule(TimerWheel.Entry(fd: fd, generation: slots[Int(fd)].generation, kind: kind, due: due))
    }

    /// Makes the table hold `fd`.
    mutating func ensureSlot(_ fd: Int32) {
        if Int(fd) >= slots.count {
            slots.append(contentsOf: repeatElement(SocketSlot(), count: max(Int(fd) + 1 - slots.count, slots.count / 2, 64)))
        }
    }

    /// Adds a socket to the loop's epoll, once, for every event it will ever need.
    mutating func register(_ fd: Int32, edgeTriggered events: UInt32) -> Int32 {
        var event = epoll_event()
        event.events = events | CInterlinkEpollEt
        event.data.u64 = eventTag(fd: fd, generation: slots[Int(fd)].generation)
        return epoll_ctl(loop.epoll, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : errno
    }

    private mutating func handle(_ command: EpollLoop.Command) {
        switch command {
        case .addListener(let id, let fd, let routeSlot, let transport):
            ensureSlot(fd)
            slots[Int(fd)].reset()
            slots[Int(fd)].role = transport == .udp ? .udpListener : .listener
            slots[Int(fd)].listener = listeners.count
            listeners.append(Listener(id: id, fd: fd, slot: routeSlot, transport: transport))
            let failure = register(fd, edgeTriggered: CInterlinkEpollIn)
            if failure != 0 {
                logger.error("cannot watch a listener", metadata: ["error": "\(errnoText(failure))"])
            }
            if transport == .udp { udpDatagrams(listener: fd) } else { acceptConnections(listener: fd) }
        case .removeListener(let id, let done):
            for (index, listener) in listeners.enumerated() where listener?.id == id {
                if let fd = listener?.fd {
                    closeFlows(of: fd)
                    close(fd)
                    slots[Int(fd)].reset()
                }
                listeners[index] = nil
            }
            done()
        case .stop(let done):
            for case let listener? in listeners {
                closeFlows(of: listener.fd)
                close(listener.fd)
                slots[Int(listener.fd)].reset()
            }
            listeners.removeAll()
            for fd in slots.indices where slots[fd].role == .client {
                closeConnection(Int32(fd))
            }
            running = false
            done()
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call).
@inline(__always)
func monotonicNow() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
#endif
