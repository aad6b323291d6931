#if os(Linux)
import Glibc
import InterlinkCore

/// A socket address ready for connect(2) and bind(2), built once per backend or frontend so
/// that a new connection costs no conversion.
struct RawSocketAddress: Sendable {
    private(set) var storage = sockaddr_storage()
    let length: socklen_t
    let family: Int32

    init(_ endpoint: SocketEndpoint) {
        let bytes = endpoint.ip.bytes
        if bytes.count == 4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        }
    }

    /// Calls `body` with the address as the `sockaddr` pointer the socket calls take.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}

extension SocketEndpoint {
    /// The IP and port of an address filled in by accept4(2) or getsockname(2); nil for other
    /// families.
    init?(_ storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            guard let ip = IPAddress(bytes: withUnsafeBytes(of: address.sin_addr) { Array($0) }) else { return nil }
            self.init(ip: ip, port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            guard let ip = IPAddress(bytes: withUnsafeBytes(of: address.sin6_addr) { Array($0) }) else { return nil }
            self.init(ip: ip, port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }
}

#endif
