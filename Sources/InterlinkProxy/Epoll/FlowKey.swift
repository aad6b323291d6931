#if os(Linux)
import Glibc
import InterlinkCore

/// A UDP client as a flow table key: the frontend socket it wrote to and its address, in a
/// fixed-size value (no allocation per datagram), plus the address as sendto(2) takes it.
struct FlowKey: Hashable {
    let listener: Int32
    let family: UInt16
    let port: UInt16
    let high: UInt64
    let low: UInt64

    init?(listener: Int32, _ storage: UnsafePointer<sockaddr_storage>) {
        self.listener = listener
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            family = UInt16(AF_INET)
            port = address.sin_port
            high = 0
            low = UInt64(address.sin_addr.s_addr)
        case AF_INET6:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            family = UInt16(AF_INET6)
            port = address.sin6_port
            (high, low) = withUnsafeBytes(of: address.sin6_addr) { ($0.load(fromByteOffset: 0, as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self)) }
        default:
            return nil
        }
    }

    /// The client's address for sendto(2).
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var storage = sockaddr_storage()
        if family == UInt16(AF_INET) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port
            address.sin_addr.s_addr = UInt32(truncatingIfNeeded: low)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port
        withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
            raw.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
        }
        withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }

    /// The client as an endpoint, for Maglev and ClientIP affinity.
    var endpoint: SocketEndpoint? {
        withSockAddr { pointer, _ in
            UnsafeRawPointer(pointer).withMemoryRebound(to: sockaddr_storage.self, capacity: 1) { SocketEndpoint($0) }
        }
    }
}
#endif
