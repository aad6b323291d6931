#if os(Linux)
import CInterlinkLinux
import Glibc
import InterlinkCore
import NIOConcurrencyHelpers

/// One thread of the purpose-built data plane: its own epoll, an eventfd that wakes it for
/// commands from the control plane, and an `EpollWorker` that owns its sockets.
///
/// Threading: `send` may be called from any thread (the mailbox is locked, then the eventfd is
/// written); everything else runs on the loop's thread.
final class EpollLoop: Sendable {
    enum Command: Sendable {
        /// Start accepting on a listening socket of a frontend (this loop's `SO_REUSEPORT` one).
        case addListener(id: Int, fd: Int32, slot: RouteSlot, transport: TransportProtocol)
        /// Close the listener; open connections go on.
        case removeListener(id: Int, done: @Sendable () -> Void)
        /// Close every socket and end the thread.
        case stop(done: @Sendable () -> Void)
    }

    let index: Int
    let epoll: Int32
    let wake: Int32
    let context: EpollContext
    /// Commands not yet taken; nil once the thread has ended (a command is then answered at
    /// once: there is nothing left to stop or close).
    private let mailbox = NIOLockedValueBox<[Command]?>([])

    init(index: Int, context: EpollContext) throws {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw EpollError.setup("epoll_create1", errnoText(errno)) }
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            let code = errno
            close(epoll)
            throw EpollError.setup("eventfd", errnoText(code))
        }
        var event = epoll_event()
        event.events = CInterlinkEpollIn | CInterlinkEpollEt
        event.data.u64 = EpollWorker.wakeTag
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            let code = errno
            close(epoll)
            close(wake)
            throw EpollError.setup("epoll_ctl", errnoText(code))
        }
        self.index = index
        self.epoll = epoll
        self.wake = wake
        self.context = context
    }

    func send(_ command: Command) {
        let accepted = mailbox.withLockedValue { commands in
            commands?.append(command)
            return commands != nil
        }
        guard accepted else { return Self.answer(command) }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    func takeCommands() -> [Command] {
        var counter: UInt64 = 0
        _ = read(wake, &counter, 8)
        return mailbox.withLockedValue { commands in
            defer { if commands != nil { commands = [] } }
            return commands ?? []
        }
    }

    /// The thread has ended: answers what was still waiting, and every later command at once.
    func finished() {
        let left = mailbox.withLockedValue { commands in
            defer { commands = nil }
            return commands ?? []
        }
        left.forEach(Self.answer)
    }

    private static func answer(_ command: Command) {
        switch command {
        case .addListener(_, let fd, _, _): close(fd)
        case .removeListener(_, let done), .stop(let done): done()
        }
    }

    /// Starts the loop's thread.
    func start() throws {
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<EpollLoop>.fromOpaque(argument!).takeRetainedValue()
            var worker = EpollWorker(loop: loop)
            worker.run()
            return nil
        }, retained.toOpaque())
        guard result == 0 else {
            retained.release()
            throw EpollError.setup("pthread_create", errnoText(result))
        }
        pthread_setname_np(thread, "interlink-dp-\(index)")
        pthread_detach(thread)
    }

    deinit {
        close(epoll)
        close(wake)
    }
}

enum EpollError: Error, CustomStringConvertible {
    case setup(String, String)

    var description: String {
        switch self {
        case .setup(let call, let reason): "cannot start the data plane: \(call) failed: \(reason)"
        }
    }
}
#endif
