#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// A short, readable text for a socket error, for logs, the API and the command line:
/// `Connection refused (errno 111)` rather than NIO's internal descriptions.
public func networkErrorText(_ error: Error) -> String {
    switch error {
    case let io as IOError:
        return errnoText(io.errnoCode)
    case let connection as NIOConnectionError:
        guard let last = connection.connectionErrors.last else { return "\(connection)" }
        return networkErrorText(last.error)
    case ChannelError.connectTimeout(let timeout):
        return "connect timed out after \(timeout.nanoseconds / 1_000_000) ms"
    default:
        return "\(error)"
    }
}

/// `strerror` text with the number: `Connection refused (errno 111)`.
func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}

/// Whether an errno says this process or host ran out of a resource (see below).
func isLocalExhaustion(errno code: Int32) -> Bool {
    code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
}

/// Whether `error` says this process or host ran out of a resource (descriptors, buffers,
/// memory) rather than that the peer failed: such a failure says nothing about the backend,
/// so it must not mark it down.
public func isLocalExhaustion(_ error: Error) -> Bool {
    switch error {
    case let io as IOError:
        return isLocalExhaustion(errno: io.errnoCode)
    case let connection as NIOConnectionError:
        return connection.connectionErrors.contains { isLocalExhaustion($0.error) }
    default:
        return false
    }
}
