#if os(Linux)
import InterlinkCore

/// What an event loop knows of one of its sockets, kept in a table indexed by descriptor.
///
/// A proxied connection is two slots, the client's and the upstream's, each naming the other
/// as `peer`. Bytes waiting to be written to a socket (what it could not take at once, or what
/// the client sent while the backend was being dialled) are `pending` on its slot; while a
/// socket has pending bytes its peer is not read (backpressure). The connection's routing
/// state lives on the client's slot.
///
/// `generation` grows each time the descriptor is closed; the epoll data carries it, so an
/// event or a timer for a descriptor that has since been closed and reused is recognised.
///
/// Threading: owned by one event loop.
struct SocketSlot {
    enum Role: UInt8 {
        case free, listener, client, upstream
        /// A UDP frontend socket: datagrams from clients, replies sent back from it.
        case udpListener
        /// One UDP flow's socket, connected to its backend; `peer` is the frontend socket.
        case udpFlow
    }

    var generation: UInt32 = 0
    var role = Role.free
    var peer: Int32 = -1

    // Edge-triggered readiness, remembered until a read or write meets EAGAIN.
    var readable = false
    var writable = false
    var inputEnded = false
    /// The peer's end of input (or an error) was signalled: read until recv says so.
    var hangupSeen = false
    var outputShut = false
    /// Shut this socket's output once its pending bytes are written.
    var shutWhenFlushed = false

    var pending: UnsafeMutableRawPointer?
    var pendingStart = 0
    var pendingEnd = 0
    /// Bytes read from this socket not yet added to the backend's counters.
    var unreported = 0

    // Upstream only.
    /// The dial has not completed.
    var connecting = false
    /// Connected, and no byte has gone either way yet: a reset now is retried elsewhere.
    var probing = false
    /// Connected once: its close counts in the backend's active connections.
    var opened = false
    /// Monotonic nanoseconds: when the dial started, then when it must have completed.
    var dialStarted: UInt64 = 0
    var deadline: UInt64 = 0

    // Client only.
    var route: FrontendRoute?
    var backend: RouteBackend?
    var tried: [RouteBackend] = []
    var clientEndpoint: SocketEndpoint?
    var lastActive: UInt64 = 0

    // Listener only: its index in the loop's listeners.
    var listener = -1

    // UDP flow only: the client it answers, and bytes from the client not yet counted.
    var flowClient: FlowKey?
    var unreportedFromClient = 0

    var hasPending: Bool { pending != nil }

    /// Forgets everything but the generation, which moves on.
    mutating func reset() {
        let next = generation &+ 1
        self = SocketSlot()
        generation = next
    }
}

/// The epoll data of a socket: its descriptor and generation.
@inline(__always)
func eventTag(fd: Int32, generation: UInt32) -> UInt64 {
    UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
}
#endif
