import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// Serves an `EmbeddedStore` as the subset of etcd's v3 JSON gateway that Cluster Mesh uses,
/// so other clusters read it with the same client as a real etcd:
/// `/v3/kv/range`, `put`, `deleterange`, `txn`, `compaction`, `/v3/watch` (one JSON result per
/// line), `/v3/lease/grant`, `keepalive`, `revoke`, `timetolive`.
///
/// Peers only read: every write is refused with PERMISSION_DENIED unless `allowWrites` is set
/// (the agent itself writes to its store in-process). Peers address only the keys of their
/// `PeerKeyScope`.
public enum StoreGateway {
    /// One request-response call of the gateway: its path, whether it writes, and what it does.
    struct UnaryRoute: Sendable {
        let path: String
        let write: Bool
        let handle: @Sendable (GatewayRequest) throws -> [String: Any]
    }

    public static func router(store: EmbeddedStore, allowWrites: Bool, cluster: String, limits: HTTPServerLimits = .mesh) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: limits.bodyLimit())
        let scope = PeerKeyScope(allowWrites: allowWrites)
        for route in unaryRoutes(store: store, scope: scope) {
            router.post(RouterPath(route.path)) { request, _ -> Response in
                do {
                    let body = try await request.body.collect(upTo: limits.maxBodyBytes)
                    // SQLite blocks (a write waits for fsync): parse, run and encode off the cooperative pool.
                    let (status, line) = try await NIOThreadPool.singleton.runIfActive {
                        answer(route, body: Data(body.readableBytesView), allowWrites: allowWrites, cluster: cluster)
                    }
                    return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: line))
                } catch {
                    return errorResponse(error)
                }
            }
        }
        router.post("/v3/watch") { request, _ -> Response in
            await watch(request, store: store, scope: scope)
        }
        return router
    }

    /// Every request-response call, as `router` serves them (and `respond` runs them).
    static func unaryRoutes(store: EmbeddedStore, scope: PeerKeyScope) -> [UnaryRoute] {
        var routes: [UnaryRoute] = []
        func route(_ path: String, write: Bool, _ handle: @escaping @Sendable (GatewayRequest) throws -> [String: Any]) {
            routes.append(UnaryRoute(path: path, write: write, handle: handle))
        }
        route("/v3/kv/range", write: false) { request in
            let range = try request.keyRange()
            try scope.check(range)
            let result = try store.range(range, revision: try request.int("revision"), limit: Int(try request.int("limit")))
            return GatewayJSON.range(result, keysOnly: request.bool("keys_only"), countOnly: request.bool("count_only"))
        }
        route("/v3/kv/put", write: true) { request in
            let key = try request.key()
            try scope.check(key: key)
            let (revision, prev) = try store.put(key: key, value: try request.bytes("value"), lease: try request.int("lease"))
            var answer: [String: Any] = ["header": GatewayJSON.header(revision)]
            if request.bool("prev_kv"), let prev { answer["prev_kv"] = GatewayJSON.kv(prev) }
            return answer
        }
        route("/v3/kv/deleterange", write: true) { request in
            let range = try request.keyRange()
            try scope.check(range)
            let (revision, deleted) = try store.deleteRange(range)
            var answer: [String: Any] = ["header": GatewayJSON.header(revision)]
            if !deleted.isEmpty { answer["deleted"] = String(deleted.count) }
            if request.bool("prev_kv"), !deleted.isEmpty { answer["prev_kvs"] = deleted.map { GatewayJSON.kv($0) } }
            return answer
        }
        route("/v3/kv/txn", write: true) { request in try transaction(request, store: store, scope: scope) }
        route("/v3/kv/compaction", write: true) { request in
            try store.compact(revision: try request.int("revision"))
            return ["header": GatewayJSON.header(store.revision)]
        }
        route("/v3/lease/grant", write: true) { request in
            let ttl = try request.int("TTL")
            let id = try store.grantLease(ttl: ttl, id: try request.int("ID"))
            return ["header": GatewayJSON.header(store.revision), "ID": String(id), "TTL": String(ttl)]
        }
        route("/v3/lease/keepalive", write: true) { request in
            let id = try request.int("ID")
            let ttl = store.renewLease(id)
            var result: [String: Any] = ["header": GatewayJSON.header(store.revision), "ID": String(id)]
            if ttl > 0 { result["TTL"] = String(ttl) }
            return ["result": result]
        }
        route("/v3/lease/revoke", write: true) { request in
            try store.revoke(lease: try request.int("ID"))
            return ["header": GatewayJSON.header(store.revision)]
        }
        route("/v3/lease/timetolive", write: false) { request in
            let id = try request.int("ID")
            let (ttl, granted, keys) = try store.timeToLive(lease: id)
            var answer: [String: Any] = ["header": GatewayJSON.header(store.revision), "ID": String(id), "TTL": String(ttl)]
            if granted != 0 { answer["grantedTTL"] = String(granted) }
            let visible = keys.filter(scope.isVisible)
            if request.bool("keys"), !visible.isEmpty { answer["keys"] = visible.map { Data($0.utf8).base64EncodedString() } }
            return answer
        }
        return routes
    }

    /// Runs one call on a request body: the status and the JSON line to answer with.
    static func answer(_ route: UnaryRoute, body: Data, allowWrites: Bool, cluster: String) -> (HTTPResponse.Status, ByteBuffer) {
        do {
            if route.write, !allowWrites {
                throw StoreError.readOnly(
                    "the embedded store of cluster \(cluster) is read-only for peers: it is written by its own agent (start that agent with --mesh-allow-writes to allow writes)")
            }
            return (.ok, GatewayJSON.line(try route.handle(try GatewayRequest(body))))
        } catch {
            let response = errorAnswer(error)
            return (response.status, response.line)
        }
    }

    /// What the gateway answers to a request body sent to `path`, without HTTP (for fuzzing
    /// the request decoding); nil for a path it does not serve.
    public static func respond(path: String, body: Data, store: EmbeddedStore, allowWrites: Bool, cluster: String) -> (status: Int, body: ByteBuffer)? {
        guard let route = unaryRoutes(store: store, scope: PeerKeyScope(allowWrites: allowWrites)).first(where: { $0.path == path }) else { return nil }
        let (status, line) = answer(route, body: body, allowWrites: allowWrites, cluster: cluster)
        return (Int(status.code), line)
    }

    private static func transaction(_ request: GatewayRequest, store: EmbeddedStore, scope: PeerKeyScope) throws -> [String: Any] {
        let compares = try request.objects("compare").map { compare -> StoreCompare in
            let target: StoreCompare.Target
            switch compare.fields["target"] as? String ?? "VERSION" {
            case "VERSION": target = .version(try compare.int("version"))
            case "CREATE": target = .createRevision(try compare.int("create_revision"))
            case "MOD": target = .modRevision(try compare.int("mod_revision"))
            case "LEASE": target = .lease(try compare.int("lease"))
            case "VALUE": target = .value(try compare.bytes("value"))
            case let other: throw StoreError.invalid("compare.target: \(other) is not VERSION, CREATE, MOD, VALUE or LEASE")
            }
            let resultName = compare.fields["result"] as? String ?? "EQUAL"
            guard let result = Compare.Result(rawValue: resultName) else {
                throw StoreError.invalid("compare.result: \(resultName) is not EQUAL, GREATER, LESS or NOT_EQUAL")
            }
            let key = try compare.key()
            try scope.check(key: key)
            return StoreCompare(key: key, target: target, result: result)
        }
        func operations(_ name: String) throws -> [StoreOperation] {
            try request.objects(name).map { op in
                if let put = op.object("request_put") {
                    let key = try put.key()
                    try scope.check(key: key)
                    return .put(key: key, value: try put.bytes("value"), lease: try put.int("lease"), prevKV: put.bool("prev_kv"))
                }
                if let delete = op.object("request_delete_range") {
                    let range = try delete.keyRange()
                    try scope.check(range)
                    return .deleteRange(range, prevKV: delete.bool("prev_kv"))
                }
                if let range = op.object("request_range") {
                    let keys = try range.keyRange()
                    try scope.check(keys)
                    return .range(keys)
                }
                throw StoreError.invalid("\(name): each operation needs request_put, request_delete_range or request_range")
            }
        }
        let (succeeded, results, revision) = try store.txn(compare: compares, success: try operations("success"), failure: try operations("failure"))
        var answer: [String: Any] = ["header": GatewayJSON.header(revision)]
        if succeeded { answer["succeeded"] = true }
        answer["responses"] = results.map { result -> [String: Any] in
            switch result {
            case .put(let revision, let prev):
                var put: [String: Any] = ["header": GatewayJSON.header(revision)]
                if let prev { put["prev_kv"] = GatewayJSON.kv(prev) }
                return ["response_put": put]
            case .deleteRange(let revision, let deleted):
                var delete: [String: Any] = ["header": GatewayJSON.header(revision)]
                if !deleted.isEmpty { delete["deleted"] = String(deleted.count) }
                return ["response_delete_range": delete]
            case .range(let range):
                return ["response_range": GatewayJSON.range(range, keysOnly: false, countOnly: false)]
            }
        }
        return answer
    }

    /// A watch: the `created` line, then one line per revision with events, and progress
    /// notices; ends (cancelled, with `compact_revision`) if the start revision was compacted.
    private static func watch(_ request: Request, store: EmbeddedStore, scope: PeerKeyScope) async -> Response {
        let create: GatewayRequest
        let range: KeyRange
        let startRevision: Int64
        do {
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let found = try GatewayRequest(Data(body.readableBytesView)).object("create_request") else {
                throw StoreError.invalid("a watch needs create_request (cancel and progress requests are not served)")
            }
            create = found
            range = try create.keyRange()
            try scope.check(range)
            startRevision = try create.int("start_revision")
        } catch {
            return errorResponse(error)
        }
        let events: StoreWatch
        do {
            events = try store.watch(range, startRevision: startRevision, prevKV: create.bool("prev_kv"), progressNotify: create.bool("progress_notify"))
        } catch StoreError.compacted(let compacted) {
            let line = GatewayJSON.line(["result": [
                "header": GatewayJSON.header(store.revision), "created": true, "canceled": true,
                "compact_revision": String(compacted), "cancel_reason": StoreError.compacted(compactRevision: compacted).description,
            ] as [String: Any]])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: line))
        } catch {
            return errorResponse(error)
        }
        let createdRevision = store.revision
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
            try await writer.write(GatewayJSON.line(["result": ["header": GatewayJSON.header(createdRevision), "created": true] as [String: Any]]))
            for await batch in events {
                var result: [String: Any] = ["header": GatewayJSON.header(batch.revision)]
                if !batch.events.isEmpty { result["events"] = batch.events.map(GatewayJSON.event) }
                try await writer.write(GatewayJSON.line(["result": result]))
            }
            if let reason = events.cancelReason {
                try await writer.write(GatewayJSON.line(["result": [
                    "header": GatewayJSON.header(store.revision), "canceled": true, "cancel_reason": reason,
                ] as [String: Any]]))
            }
            try await writer.finish(nil)
        })
    }

    private static func errorAnswer(_ error: Error) -> (status: HTTPResponse.Status, line: ByteBuffer) {
        let storeError = error as? StoreError ?? .invalid("\(error)")
        let status: HTTPResponse.Status = switch storeError.grpcCode {
        case 5: .notFound
        case 7: .forbidden
        case 14: .serviceUnavailable
        default: .badRequest
        }
        let message = storeError.description
        return (status, GatewayJSON.line(["error": message, "code": storeError.grpcCode, "message": message]))
    }

    private static func errorResponse(_ error: Error) -> Response {
        let (status, line) = errorAnswer(error)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: line))
    }
}

extension StoreGateway {
    /// The gateway as a Hummingbird application on `host:port` (port 0: any free port, passed
    /// to `onRunning`).
    public static func application(
        store: EmbeddedStore, allowWrites: Bool, cluster: String, host: String, port: Int, limits: HTTPServerLimits = .mesh,
        group: EventLoopGroup, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(store: store, allowWrites: allowWrites, cluster: cluster, limits: limits),
            server: limits.server,
            configuration: limits.configuration(host: host, port: port, serverName: "interlink-store", logger: logger),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
    }
}
