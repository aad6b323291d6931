import Foundation

/// The URL of a store's endpoint, as etcd's clients and Cilium's cluster files write it:
/// `http://HOST:PORT` or `https://HOST:PORT`, HOST an IPv4 address, `[IPv6]` or a DNS name,
/// PORT 1-65535 (2379 when left out), no path. Validated once, here, for every place that takes
/// one (command-line flags, cluster files, the API, the client).
public struct StoreEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The URL as given, without a trailing slash.
    public let url: String
    public let isTLS: Bool
    /// Without brackets for IPv6.
    public let host: String
    public let port: Int

    public init(_ text: String) throws(InvalidStoreEndpoint) {
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://") else {
            throw InvalidStoreEndpoint("\(text.isEmpty ? "(empty)" : text) is not an http:// or https:// URL")
        }
        guard let url = URL(string: trimmed), let host = url.host, !host.isEmpty else {
            throw InvalidStoreEndpoint("\(text) is not a URL such as https://127.0.0.1:2379")
        }
        guard url.path.isEmpty else { throw InvalidStoreEndpoint("\(text) has a path: give only https://HOST:PORT") }
        guard url.query == nil, url.fragment == nil, url.user == nil else {
            throw InvalidStoreEndpoint("\(text) has more than a scheme, host and port: give only https://HOST:PORT")
        }
        let port = url.port ?? 2379
        guard (1...65535).contains(port) else { throw InvalidStoreEndpoint("\(text) has port \(port), outside 1-65535") }
        self.url = trimmed
        self.isTLS = url.scheme == "https"
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }

    public var description: String { url }
}

/// Why a text is not a store endpoint, phrased for a user.
public struct InvalidStoreEndpoint: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
