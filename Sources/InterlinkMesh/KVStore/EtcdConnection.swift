import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCertificateReloading
import NIOConcurrencyHelpers

/// One etcd endpoint of a client: a gRPC client over one HTTP/2 connection that every call and
/// every watch of the client shares, with keepalive pings, started on first use.
final class EtcdConnection: Sendable {
    let endpoint: String
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let reloader: TimedCertificateReloader?
    private let running = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let host: String
    /// The `cilium-host-aliases` IP dialled for `host`, if any.
    private let dialHost: String?
    private let port: Int
    private let tls: EtcdTLSFiles?
    /// The last TLS failure explained (its text, the explanation, when), so that retries do
    /// not probe the store again within `explanationLifetime`.
    private let explained = NIOLockedValueBox<(failure: String, explanation: String, at: ContinuousClock.Instant)?>(nil)
    static let explanationLifetime: Duration = .seconds(30)

    /// Parses `http://HOST:PORT` or `https://HOST:PORT` (HOST an IPv4, `[IPv6]` or DNS name).
    /// A HOST in `hostAliases` is dialled at those IPs (Cilium's `cilium-host-aliases`), and
    /// stays the TLS server name the store's certificate is checked against.
    init(endpoint: String, tls: EtcdTLSFiles?, hostAliases: [String: [String]] = [:]) throws {
        self.endpoint = endpoint
        let parsed: StoreEndpoint
        do { parsed = try StoreEndpoint(endpoint) } catch { throw KVStoreError.configuration("endpoint \(error)") }
        let (bare, port, scheme) = (parsed.host, parsed.port, parsed.isTLS ? "https" : "http")
        (self.host, self.port, self.tls) = (bare, port, tls)
        let aliases = hostAliases[bare] ?? []
        dialHost = aliases.first
        let aliasV4 = aliases.filter(IPv4Literal.matches), aliasV6 = aliases.filter { $0.contains(":") }
        let target: any ResolvableTarget =
            if !aliasV4.isEmpty { .ipv4(pairs: aliasV4.map { ($0, port) }) }
            else if !aliasV6.isEmpty { .ipv6(pairs: aliasV6.map { ($0, port) }) }
            else if IPv4Literal.matches(bare) { .ipv4(host: bare, port: port) }
            else if bare.contains(":") { .ipv6(host: bare, port: port) }
            else { .dns(host: bare, port: port) }
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if scheme == "https" || tls != nil {
            guard scheme == "https" else {
                throw KVStoreError.configuration("endpoint \(endpoint) is http:// but TLS files are given: use https://")
            }
            (security, reloader) = try (tls ?? EtcdTLSFiles(trustedCAFile: nil, certFile: nil, keyFile: nil)).transportSecurity()
        } else {
            (security, reloader) = (.plaintext, nil)
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: security,
            config: .defaults { config in
                if !aliases.isEmpty { config.http2.authority = "\(bare):\(port)" }
                config.connection.keepalive = .init(time: .seconds(10), timeout: .seconds(5), allowWithoutCalls: true)
                config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
            })
        grpc = GRPCClient(transport: transport)
    }

    /// The gRPC client, its connection started if it was not.
    var client: GRPCClient<HTTP2ClientTransport.Posix> {
        running.withLockedValue { task in
            if task == nil {
                let grpc = self.grpc
                let reloader = self.reloader
                task = Task {
                    await withDiscardingTaskGroup { group in
                        if let reloader { group.addTask { try? await reloader.run() } }
                        try? await grpc.runConnections()
                        group.cancelAll()
                    }
                }
            }
        }
        return grpc
    }

    /// A transport failure as a user can act on it: a TLS handshake failure says which
    /// certificate was refused and why (`TLSDiagnosis`); anything else is kept as it is.
    func explain(_ failure: String) async -> String {
        guard failure.contains("SSL") else { return failure }
        let now = ContinuousClock.now
        if let last = explained.withLockedValue({ $0 }), last.failure == failure, now - last.at < Self.explanationLifetime {
            return last.explanation
        }
        let explanation = await TLSDiagnosis.explain(failure, endpoint: endpoint, host: host, dialHost: dialHost, port: port, tls: tls) ?? failure
        explained.withLockedValue { $0 = (failure, explanation, now) }
        return explanation
    }

    func shutdown() async {
        guard let task = running.withLockedValue({ $0 }) else { return }
        grpc.beginGracefulShutdown()
        task.cancel()
        await task.value
    }
}

enum IPv4Literal {
    static func matches(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in UInt8(part) != nil }
    }
}
