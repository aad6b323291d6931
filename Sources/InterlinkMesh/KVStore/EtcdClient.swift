import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOConcurrencyHelpers

/// etcd's user and password authentication (`username:` and `password:` of a cluster file):
/// the client authenticates, then sends the token with every call.
public struct EtcdCredentials: Hashable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// An etcd v3 client over etcd's own protocol, gRPC over HTTP/2, as other clusters read a store
/// (a real etcd, a clustermesh-apiserver's etcd, or an Interlink agent's embedded store).
///
/// Several endpoints: every call goes to the one that answered last and fails over to the next
/// when it is unavailable; watches follow. Each endpoint has one HTTP/2 connection, opened on
/// first use, that every call and watch shares, with keepalive pings. TLS and mutual TLS from
/// Cilium's cluster files (certificates re-read when they change), and etcd's password
/// authentication. Large prefixes are read in pages of `pageSize` keys, at one revision, as
/// etcd's own client does. Threading: safe from any task.
public final class EtcdClient: Sendable {
    public let endpoints: [String]
    let connections: [EtcdConnection]
    let requestTimeout: Duration
    let credentials: EtcdCredentials?
    private let preferred = NIOLockedValueBox(0)
    let token = NIOLockedValueBox<String?>(nil)

    /// Keys per page of a prefix read.
    let pageSize: Int64
    /// The largest answer accepted (a page of large values).
    public static let maximumResponseBytes = 64 << 20

    /// - Parameter endpoints: URLs such as `https://127.0.0.1:2379` (`http://` for plaintext).
    /// - Parameter pageSize: keys per page of a prefix read.
    /// - Parameter hostAliases: host name → IPs to dial for it (Cilium's `cilium-host-aliases`).
    public init(
        endpoints: [String], tls: EtcdTLSFiles? = nil, credentials: EtcdCredentials? = nil, hostAliases: [String: [String]] = [:],
        requestTimeout: Duration = .seconds(5), pageSize: Int64 = 1000
    ) throws {
        self.pageSize = max(1, pageSize)
        guard !endpoints.isEmpty else { throw KVStoreError.configuration("an etcd client needs at least one endpoint") }
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        connections = try self.endpoints.map { try EtcdConnection(endpoint: $0, tls: tls, hostAliases: hostAliases) }
        self.requestTimeout = requestTimeout
        self.credentials = credentials
    }

    /// Closes the connections.
    public func shutdown() async {
        for connection in connections { await connection.shutdown() }
    }

    var currentEndpoint: String { endpoints[preferred.withLockedValue { $0 }] }
    var currentConnection: EtcdConnection { connections[preferred.withLockedValue { $0 }] }

    func options(timeout: Duration?) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = false
        options.maxResponseMessageBytes = Self.maximumResponseBytes
        return options
    }

    /// Runs `body` against the preferred endpoint, then each other one while they are
    /// unavailable; authenticates first when credentials are set (again once if the token
    /// was refused). Errors come back as `KVStoreError`.
    func call<Result: Sendable>(_ body: (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> Result) async throws -> Result {
        let start = preferred.withLockedValue { $0 }
        var lastError = ""
        for offset in 0..<connections.count {
            let index = (start + offset) % connections.count
            let connection = connections[index]
            do {
                let result = try await authenticated(connection) { metadata in
                    try await body(connection.client, metadata, self.options(timeout: self.requestTimeout))
                }
                preferred.withLockedValue { $0 = index }
                return result
            } catch let error as RPCError where Self.isUnavailable(error) {
                lastError = await connection.explain(Self.describe(error))
                continue
            } catch let error as RPCError {
                preferred.withLockedValue { $0 = index }
                throw KVStoreError.server(endpoint: connection.endpoint, status: error.code.rawValue, message: Self.describe(error))
            }
        }
        throw KVStoreError.unreachable(endpoints: endpoints, lastError: lastError)
    }

    /// The store could not be reached (so another endpoint may do better).
    static func isUnavailable(_ error: RPCError) -> Bool {
        error.code == .unavailable || error.code == .deadlineExceeded
    }

    /// etcd's message, and what the transport says under it (a TLS failure, say).
    static func describe(_ error: RPCError) -> String {
        var text = error.message
        var cause = error.cause
        while let next = cause {
            let detail = (next as? RPCError)?.message ?? "\(next)"
            if !text.contains(detail) { text += ": \(detail)" }
            cause = (next as? RPCError)?.cause
        }
        return text
    }

    /// Runs `body` with the auth token's metadata (none without credentials).
    func authenticated<Result>(_ connection: EtcdConnection, _ body: (Metadata) async throws -> Result) async throws -> Result {
        guard let credentials else { return try await body([:]) }
        for attempt in 0..<2 {
            let current = try await tokenFor(connection, credentials)
            do {
                var metadata = Metadata()
                metadata.addString(current, forKey: "token")
                return try await body(metadata)
            } catch let error as RPCError where attempt == 0 && (error.code == .unauthenticated || error.message.contains("invalid auth token")) {
                token.withLockedValue { if $0 == current { $0 = nil } }
            }
        }
        throw RPCError(code: .unauthenticated, message: "etcdserver: invalid auth token")
    }

    private func tokenFor(_ connection: EtcdConnection, _ credentials: EtcdCredentials) async throws -> String {
        if let current = token.withLockedValue({ $0 }) { return current }
        var request = Etcdserverpb_AuthenticateRequest()
        request.name = credentials.username
        request.password = credentials.password
        let answer = try await Etcdserverpb_Auth.Client(wrapping: connection.client).authenticate(request, options: options(timeout: requestTimeout))
        token.withLockedValue { $0 = answer.token }
        return answer.token
    }
}
