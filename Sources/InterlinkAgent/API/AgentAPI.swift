import Foundation
import Hummingbird
import Logging
import NIOCore

/// The agent's JSON API, served with Hummingbird.
///
/// - `GET /healthz`: `ok` while the agent runs.
/// - `GET /v1/services`: every service with its frontends and backends (`ServicesDocument`).
enum AgentAPI {
    static func application(
        reconciler: Reconciler, settings: AgentSettings, group: EventLoopGroup, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in
            "ok\n"
        }
        router.get("/v1/services") { _, _ -> Response in
            try json(await reconciler.servicesDocument())
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(settings.apiListen.ip.description, port: Int(settings.apiListen.port)),
                serverName: "interlink", backlog: 256),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
    }

    static func json<Value: Encodable>(_ value: Value) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
