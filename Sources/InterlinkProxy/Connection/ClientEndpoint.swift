import InterlinkCore
import NIOCore

extension SocketEndpoint {
    /// The IP and port of a NIO socket address; nil for Unix sockets.
    init?(_ address: SocketAddress?) {
        guard let address else { return nil }
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            guard let ip = IPAddress(bytes: bytes) else { return nil }
            self.init(ip: ip, port: UInt16(bigEndian: v4.address.sin_port))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            guard let ip = IPAddress(bytes: bytes) else { return nil }
            self.init(ip: ip, port: UInt16(bigEndian: v6.address.sin6_port))
        case .unixDomainSocket:
            return nil
        }
    }
}
