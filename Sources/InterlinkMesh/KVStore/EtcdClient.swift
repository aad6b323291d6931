import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// An etcd v3 client over the JSON gateway (`POST /v3/...`), as other clusters read a store.
///
/// Several endpoints: each request goes to the one that answered last and fails over to the
/// next when it cannot be reached. Threading: safe from any task.
public final class EtcdClient: Sendable {
    public let endpoints: [String]
    let http: HTTPClient
    private let preferred = NIOLockedValueBox(0)
    private let requestTimeout: TimeAmount
    private let ownsHTTPClient: Bool

    /// - Parameter endpoints: base URLs such as `http://127.0.0.1:2379`.
    public init(endpoints: [String], http: HTTPClient = EtcdClient.sharedHTTPClient, requestTimeout: TimeAmount = .seconds(5)) {
        precondition(!endpoints.isEmpty, "an etcd client needs at least one endpoint")
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.http = http
        self.requestTimeout = requestTimeout
        self.ownsHTTPClient = false
    }

    /// A client with TLS (a CA to trust, and a certificate and key for mutual TLS); call
    /// `shutdown()` when done with it.
    public init(endpoints: [String], tls: EtcdTLSFiles, requestTimeout: TimeAmount = .seconds(5)) throws {
        precondition(!endpoints.isEmpty, "an etcd client needs at least one endpoint")
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.http = try tls.makeHTTPClient()
        self.requestTimeout = requestTimeout
        self.ownsHTTPClient = true
    }

    /// Releases the connections of a client made with TLS (a no-op for the shared client).
    public func shutdown() async {
        if ownsHTTPClient { try? await http.shutdown() }
    }

    /// The HTTP client of every plain (non-TLS) etcd client. Each watch holds a connection for
    /// as long as it runs, so the per-host limit is far above AsyncHTTPClient's default of 8:
    /// many remote clusters may be served by one store (one etcd, or one relay).
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4096
        configuration.timeout.connect = .seconds(2)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    // MARK: KV

    /// Reads one key, or every key starting with `prefix` when `prefix` is true.
    public func range(_ key: String, prefix: Bool = false, revision: Int64 = 0) async throws -> RangeResult {
        var body: [String: Any] = ["key": GatewayWire.base64(key)]
        if prefix { body["range_end"] = GatewayWire.base64(prefixRangeEnd(key)) }
        if revision > 0 { body["revision"] = String(revision) }
        let response: GatewayWire.RangeResponse = try await call("/v3/kv/range", body)
        return RangeResult(kvs: try (response.kvs ?? []).map { try $0.model() }, revision: Int64(response.header?.revision ?? "0") ?? 0)
    }

    /// Writes a key (attached to `lease` when non-zero); returns the new store revision.
    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0) async throws -> Int64 {
        var body: [String: Any] = ["key": GatewayWire.base64(key), "value": GatewayWire.base64(value)]
        if lease != 0 { body["lease"] = String(lease) }
        let response: GatewayWire.HeaderResponse = try await call("/v3/kv/put", body)
        return Int64(response.header?.revision ?? "0") ?? 0
    }

    /// Deletes a key, or every key starting with it; returns how many were deleted.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws -> Int {
        var body: [String: Any] = ["key": GatewayWire.base64(key)]
        if prefix { body["range_end"] = GatewayWire.base64(prefixRangeEnd(key)) }
        let response: GatewayWire.DeleteResponse = try await call("/v3/kv/deleterange", body)
        return Int(response.deleted ?? "0") ?? 0
    }

    /// Applies `success` if every comparison holds, else `failure`; true when it succeeded.
    public func txn(_ compares: [Compare], success: [TxnOperation], failure: [TxnOperation] = []) async throws -> Bool {
        func operation(_ op: TxnOperation) -> [String: Any] {
            switch op {
            case .put(let key, let value, let lease):
                var put: [String: Any] = ["key": GatewayWire.base64(key), "value": GatewayWire.base64(value)]
                if lease != 0 { put["lease"] = String(lease) }
                return ["request_put": put]
            case .delete(let key):
                return ["request_delete_range": ["key": GatewayWire.base64(key)]]
            }
        }
        let compareBodies: [[String: Any]] = compares.map { compare in
            var body: [String: Any] = ["key": GatewayWire.base64(compare.key), "target": compare.target.rawValue, "result": compare.result.rawValue]
            switch compare.target {
            case .modRevision: body["mod_revision"] = String(compare.value)
            case .version: body["version"] = String(compare.value)
            case .createRevision: body["create_revision"] = String(compare.value)
            }
            return body
        }
        let response: GatewayWire.TxnResponse = try await call(
            "/v3/kv/txn", ["compare": compareBodies, "success": success.map(operation), "failure": failure.map(operation)])
        return response.succeeded ?? false
    }

    /// Discards history before `revision`; watches from older revisions are then cancelled.
    public func compact(revision: Int64) async throws {
        let _: GatewayWire.HeaderResponse = try await call("/v3/kv/compaction", ["revision": String(revision), "physical": true])
    }

    // MARK: Leases

    /// Grants a lease of `ttl` seconds; returns its ID.
    public func grantLease(ttl: Int) async throws -> Int64 {
        let response: GatewayWire.Lease = try await call("/v3/lease/grant", ["TTL": String(ttl)])
        guard let id = response.ID.flatMap(Int64.init) else {
            throw KVStoreError.badResponse(endpoint: currentEndpoint, detail: "lease grant without an ID")
        }
        return id
    }

    /// Renews a lease; returns its remaining TTL in seconds (0 or less: it has expired).
    public func keepAlive(lease: Int64) async throws -> Int64 {
        let response: GatewayWire.LeaseKeepAliveResponse = try await call("/v3/lease/keepalive", ["ID": String(lease)])
        return Int64(response.result?.TTL ?? "0") ?? 0
    }

    /// Revokes a lease: its keys are deleted.
    public func revokeLease(_ lease: Int64) async throws {
        let _: GatewayWire.HeaderResponse = try await call("/v3/lease/revoke", ["ID": String(lease)])
    }

    // MARK: Transport

    var currentEndpoint: String { endpoints[preferred.withLockedValue { $0 }] }

    func call<Response: Decodable>(_ path: String, _ body: [String: Any]) async throws -> Response {
        let payload = try JSONSerialization.data(withJSONObject: body)
        let start = preferred.withLockedValue { $0 }
        var lastError = ""
        for offset in 0..<endpoints.count {
            let index = (start + offset) % endpoints.count
            let endpoint = endpoints[index]
            var request = HTTPClientRequest(url: endpoint + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: payload))
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: requestTimeout)
            } catch {
                lastError = "\(error)"
                continue
            }
            preferred.withLockedValue { $0 = index }
            let bytes = try await response.body.collect(upTo: 64 << 20)
            let data = Data(bytes.readableBytesView)
            guard response.status == .ok else {
                let message = (try? JSONDecoder().decode(GatewayWire.ErrorBody.self, from: data)).flatMap { $0.message ?? $0.error }
                throw KVStoreError.server(endpoint: endpoint, status: Int(response.status.code), message: message ?? String(decoding: data.prefix(200), as: UTF8.self))
            }
            do {
                return try JSONDecoder().decode(Response.self, from: data)
            } catch {
                throw KVStoreError.badResponse(endpoint: endpoint, detail: "\(error)")
            }
        }
        throw KVStoreError.unreachable(endpoints: endpoints, lastError: lastError)
    }
}
