import Foundation
import InterlinkCore

/// Many plain TCP client connections held by this process, each moved to a descriptor number
/// of 4096 or more: Foundation's `Process` waits on its pipes with select(2), which cannot
/// watch descriptors past 1024, so the low numbers must stay free for the child processes
/// other tests start meanwhile. Blocking calls, run on a thread of their own.
enum RawConnections {
    static let firstDescriptor: Int32 = 4096

    /// Opens `count` connections to `endpoint`; throws if one cannot be opened.
    static func open(_ count: Int, to endpoint: SocketEndpoint) async throws -> [Int32] {
        try await onThread {
            var open: [Int32] = []
            do {
                for _ in 0..<count { open.append(try connect(endpoint)) }
            } catch {
                open.forEach { close($0) }
                throw error
            }
            return open
        }
    }

    /// On each connection in turn: sends `request`, reads one line, closes. Returns how many
    /// answered `expected`.
    static func exchange(_ descriptors: [Int32], request: String, expected: String) async -> Int {
        (try? await onThread {
            var answered = 0
            for fd in descriptors {
                defer { close(fd) }
                guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) == request.utf8.count else { continue }
                var line: [UInt8] = []
                var byte: UInt8 = 0
                while recv(fd, &byte, 1, 0) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
                if String(decoding: line, as: UTF8.self) == expected { answered += 1 }
            }
            return answered
        }) ?? 0
    }

    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    private static func connect(_ endpoint: SocketEndpoint) throws -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: endpoint.ip.bytes) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(call: "connect", code: code)
        }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, firstDescriptor)
        let code = errno
        close(fd)
        guard moved >= 0 else { throw Failure(call: "fcntl(F_DUPFD)", code: code) }
        return moved
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
