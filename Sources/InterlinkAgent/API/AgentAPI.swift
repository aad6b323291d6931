import Foundation
import Hummingbird
import InterlinkAPI
import InterlinkCore
import InterlinkMesh
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The agent's JSON API, served with Hummingbird.
///
/// - `GET /healthz`: `ok` while the agent runs.
/// - `GET /`: the live web dashboard (`DashboardPage`).
/// - `GET /v1/services`: every service with its frontends and backends (`ServicesDocument`).
/// - `GET /metrics`: Prometheus metrics (`AgentMetrics`).
/// - `GET /v1/traffic`: new connections per service and cluster, per second, last 3 minutes.
/// - `GET /v1/events?since=N`: what changed the routing and when (`ChangeLog`).
/// - `GET /v1/clusters`: this cluster and each remote one with its sync status (`ClustersDocument`).
/// - `POST /v1/clusters` `{"name": ..., "endpoints": [...]}`: connect to a remote cluster (writes
///   its file in the cluster mesh folder); `DELETE /v1/clusters/NAME`: disconnect from it.
/// - `POST /v1/manifests`, `DELETE /v1/services/NS/NAME`, `POST /v1/services/NS/NAME/annotations`,
///   `POST /v1/services/NS/NAME/revert` (drop its live changes), `POST /v1/backends/drain|undrain`:
///   live changes (`LiveChanges`).
///
/// Mutating calls need `Authorization: Bearer TOKEN` when the agent has `--api-token-file`.
enum AgentAPI {
    struct Context: Sendable {
        let writer: RoutingWriter
        let routes: RouteReconciler
        let settings: AgentSettings
        let roster: MeshRoster
        let meshPort: NIOLockedValueBox<Int?>
        let token: String?
        let live: LiveChanges
        let metrics: AgentMetrics
        let traffic: TrafficHistory
        let storeHealth: NIOLockedValueBox<StoreHealth>
    }

    static func application(
        context: Context, group: EventLoopGroup, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let limits = context.settings.apiLimits
        let router = Router()
        router.add(middleware: limits.bodyLimit())
        router.get("/healthz") { _, _ in
            "ok\n"
        }
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/v1/services") { _, _ -> Response in
            try json(context.routes.view.servicesDocument())
        }
        router.get("/metrics") { _, _ -> Response in
            let text = context.metrics.render(view: context.routes.view, remotes: await context.roster.statuses())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/v1/traffic") { _, _ -> Response in
            try json(context.traffic.document())
        }
        router.get("/v1/events") { request, _ -> Response in
            let since = request.uri.queryParameters.get("since", as: Int.self) ?? 0
            return try json(["events": context.writer.current.changeEvents(since: since)])
        }
        router.get("/v1/clusters") { _, _ -> Response in
            try json(await clustersDocument(context))
        }
        router.post("/v1/clusters") { request, _ -> Response in
            try authorize(request, context)
            let body = try await request.body.collect(upTo: 1 << 20)
            let config = try connectRequest(Data(body.readableBytesView), context)
            try ClusterMeshDirectory.write(config, to: try meshDirectory(context))
            return try json(ConnectAnswer(connecting: config.name.rawValue), status: .created)
        }
        router.delete("/v1/clusters/:name") { request, requestContext -> Response in
            try authorize(request, context)
            let name = requestContext.parameters.get("name") ?? ""
            let path = (try meshDirectory(context) as NSString).appendingPathComponent(name)
            guard (try? ClusterName(name)) != nil, FileManager.default.fileExists(atPath: path) else {
                throw HTTPError(.notFound, message: "no remote cluster \(name) is configured")
            }
            try FileManager.default.removeItem(atPath: path)
            return try json(DisconnectAnswer(disconnecting: name))
        }
        router.post("/v1/services/:namespace/:name/annotations") { request, requestContext -> Response in
            try authorize(request, context)
            let name = serviceName(requestContext)
            let expected = "expected {\"set\": {KEY: VALUE}, \"remove\": [KEY]}"
            let body = try await decodeBody(AnnotateRequest.self, request, limit: 1 << 20, expected: expected)
            guard body.set != nil || body.remove != nil else { throw HTTPError(.badRequest, message: expected) }
            var changes: [String: String?] = [:]
            for (key, value) in body.set ?? [:] { changes[key] = .some(value) }
            for key in body.remove ?? [] { changes[key] = .some(nil) }
            do {
                let spec = try await context.live.annotate(name, changes)
                return try json(AnnotateAnswer(
                    service: "\(name)", annotations: spec.annotations, persisted: context.live.isPersistent))
            } catch let error as AnnotationErrors {
                throw HTTPError(.badRequest, message: error.description)
            } catch let error as LiveChangeError {
                throw error.httpError
            }
        }
        router.post("/v1/manifests") { request, _ -> Response in
            try authorize(request, context)
            let expected = "expected {\"files\": [{\"name\": FILE, \"yaml\": TEXT}, ...]}"
            let body = try await decodeBody(ApplyRequest.self, request, limit: 16 << 20, expected: expected)
            guard !body.files.isEmpty else { throw HTTPError(.badRequest, message: expected) }
            do {
                let (applied, report) = try await context.live.apply(body.files, strict: body.strict ?? false)
                return try json(ApplyAnswer(applied: applied, report: report))
            } catch let errors as ManifestErrors {
                throw HTTPError(.badRequest, message: "nothing changed: " + errors.description)
            } catch let error as LiveChangeError {
                throw error.httpError
            } catch {
                throw HTTPError(.conflict, message: "nothing changed: \(error)")
            }
        }
        router.post("/v1/services/:namespace/:name/revert") { request, requestContext -> Response in
            try authorize(request, context)
            let name = serviceName(requestContext)
            do {
                try await context.live.revert(name)
            } catch let error as LiveChangeError {
                throw error.httpError
            } catch let errors as ManifestErrors {
                throw HTTPError(.conflict, message: "nothing changed: " + errors.description)
            } catch {
                throw HTTPError(.conflict, message: "nothing changed: \(error)")
            }
            return try json(RevertAnswer(reverted: "\(name)"))
        }
        router.delete("/v1/services/:namespace/:name") { request, requestContext -> Response in
            try authorize(request, context)
            let name = serviceName(requestContext)
            do {
                try await context.live.delete(name)
            } catch let error as LiveChangeError {
                throw error.httpError
            }
            return try json(DeleteAnswer(deleted: "\(name)"))
        }
        for (path, isDrained) in [("/v1/backends/drain", true), ("/v1/backends/undrain", false)] {
            router.post(RouterPath(path)) { request, _ -> Response in
                try authorize(request, context)
                let expected = "expected {\"address\": \"IP:PORT\"}"
                let address = try await decodeBody(DrainRequest.self, request, limit: 1 << 16, expected: expected).address
                guard let endpoint = SocketEndpoint(address) else {
                    throw HTTPError(.badRequest, message: "address: \(address) is not IP:PORT (e.g. 127.0.1.11:9000 or [::1]:9000)")
                }
                let known: Bool
                do { known = try await context.live.setDrained(endpoint, isDrained) } catch let error as LiveChangeError { throw error.httpError }
                guard known else {
                    throw HTTPError(.notFound, message: "\(address) is not a backend of any service here (list them with: interlink services)")
                }
                return try json(DrainAnswer(
                    backend: address, state: isDrained ? "drained" : "in rotation", persisted: context.live.isPersistent ? "yes" : "no (--kvstore none)"))
            }
        }
        return Application(
            router: router,
            server: limits.server,
            configuration: limits.configuration(
                host: context.settings.apiListen.ip.description, port: Int(context.settings.apiListen.port), serverName: "interlink", logger: logger),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
    }

    static func clustersDocument(_ context: Context) async -> ClustersDocument {
        let settings = context.settings
        let kvstore: String
        var endpoints: [String] = []
        switch settings.kvstore {
        case .none:
            kvstore = "none"
        case .etcd(let etcd, _):
            kvstore = "etcd"
            endpoints = etcd
        case .embedded(let embedded):
            kvstore = "embedded"
            let port = context.meshPort.withLockedValue { $0 } ?? Int(embedded.listen.port)
            endpoints = [embedded.url(port: port)]
        }
        let health = context.storeHealth.withLockedValue { $0 }
        return ClustersDocument(
            local: .init(
                storeHealthy: kvstore == "none" ? nil : (health.lastExport != nil && health.lastError == nil),
                storeError: health.lastError,
                lastExportAgeSeconds: health.lastExport.map { Date().timeIntervalSince($0) },
                name: settings.clusterName.rawValue, id: Int(settings.clusterID.rawValue), kvstore: kvstore,
                storeEndpoints: settings.meshAdvertise ?? endpoints, globalServices: context.writer.current.globalServiceCount,
                remoteBackendsRouted: context.routes.view.remoteBackendsInRoutes),
            remotes: await context.roster.statuses(),
            manifests: await context.live.manifestsDocument(path: settings.manifestsPath))
    }

    /// A request's JSON body; 400 with `expected` (the shape it should have) if it is not that.
    private static func decodeBody<Body: Decodable>(_ type: Body.Type, _ request: Request, limit: Int, expected: String) async throws -> Body {
        let data = try await request.body.collect(upTo: limit)
        guard let body = try? JSONDecoder().decode(type, from: Data(data.readableBytesView)) else {
            throw HTTPError(.badRequest, message: expected)
        }
        return body
    }

    /// The service named by a `/v1/services/:namespace/:name` path.
    private static func serviceName(_ requestContext: BasicRequestContext) -> ServiceName {
        ServiceName(namespace: requestContext.parameters.get("namespace") ?? "", name: requestContext.parameters.get("name") ?? "")
    }

    private static func meshDirectory(_ context: Context) throws -> String {
        guard let directory = context.settings.clustermeshConfig else {
            throw HTTPError(.conflict, message: "this agent has no cluster mesh folder: start it with --clustermesh-config DIR")
        }
        return directory
    }

    /// Validates a connect request: a valid name other than the local one, http(s) endpoints.
    private static func connectRequest(_ data: Data, _ context: Context) throws -> RemoteClusterConfig {
        let body: ConnectRequest
        do { body = try JSONDecoder().decode(ConnectRequest.self, from: data) } catch {
            throw HTTPError(.badRequest, message: "expected {\"name\": CLUSTER, \"endpoints\": [URL, ...]}: \(error)")
        }
        let name: ClusterName
        do { name = try ClusterName(body.name) } catch { throw HTTPError(.badRequest, message: "name: \(error)") }
        guard name != context.settings.clusterName else {
            throw HTTPError(.badRequest, message: "name: \(name) is this cluster's own name: a cluster does not connect to itself")
        }
        guard !body.endpoints.isEmpty else { throw HTTPError(.badRequest, message: "endpoints: give at least one URL such as http://127.0.0.1:9877") }
        for endpoint in body.endpoints {
            do { _ = try StoreEndpoint(endpoint) } catch { throw HTTPError(.badRequest, message: "endpoints: \(error)") }
        }
        let secure = body.endpoints.contains { $0.hasPrefix("https://") }
        if secure, context.settings.meshClientTLS == nil {
            throw HTTPError(.badRequest, message: "endpoints: \(body.endpoints.joined(separator: ", ")) need TLS, and this agent has no client certificate for the mesh: start it with --mesh-tls-dir (or --mesh-trusted-ca-file, --mesh-client-cert-file and --mesh-client-key-file)")
        }
        return RemoteClusterConfig(name: name, endpoints: body.endpoints, tls: secure ? context.settings.meshClientTLS : nil)
    }

    private static func authorize(_ request: Request, _ context: Context) throws {
        guard let token = context.token else { return }
        guard isAuthorized(request.headers[.authorization], token: token) else {
            throw HTTPError(.unauthorized, message: "this call changes the agent: send Authorization: Bearer TOKEN (the token of --api-token-file; the CLI reads it with --api-token-file or INTERLINK_API_TOKEN)")
        }
    }

    /// Whether an `Authorization` header carries `token` with the Bearer scheme (its name in any
    /// case, RFC 9110 §11.1). The token is compared in constant time.
    static func isAuthorized(_ header: String?, token: String) -> Bool {
        guard let header, let space = header.firstIndex(of: " "), header[..<space].lowercased() == "bearer" else { return false }
        let presented = Array(header[header.index(after: space)...].drop { $0 == " " }.utf8)
        let expected = Array(token.utf8)
        var difference = UInt8(presented.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }

    /// Reads the API token (surrounding whitespace trimmed); an empty or unreadable file is an error.
    static func readToken(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            case let token = text.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else {
            throw SettingsError("--api-token-file \(path) cannot be read or is empty: write a random token into it")
        }
        return token
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension LiveChangeError {
    /// The API's answer: 404 for what does not exist, 503 when the store could not save it.
    var httpError: HTTPError {
        switch self {
        case .noSuchService: HTTPError(.notFound, message: description)
        case .unreadableName: HTTPError(.badRequest, message: description)
        case .notSaved: HTTPError(.serviceUnavailable, message: description)
        case .noOverrides: HTTPError(.notFound, message: description)
        }
    }
}
