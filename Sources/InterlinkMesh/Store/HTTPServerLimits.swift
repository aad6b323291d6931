import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The bounds of an HTTP control-plane listener (the agent's API, the embedded store's mesh
/// port), so that clients that connect and stay silent, send slowly or send too much cannot
/// starve the agent.
///
/// - `maxConnections`: past it, new connections wait in the listen backlog (no descriptor).
/// - `idleTimeout`: a connection that sends nothing of its request for this long, or keeps an
///   idle keep-alive connection open, is closed: the header and body timeout. A response being
///   streamed (a watch) is not idle.
/// - `maxBodyBytes`: a declared `Content-Length` above it is answered 413 before the body is
///   read; a body without one is cut at the same size.
public struct HTTPServerLimits: Hashable, Sendable {
    public var maxConnections: Int
    public var idleTimeout: Duration
    public var maxBodyBytes: Int

    public init(maxConnections: Int, idleTimeout: Duration = .seconds(30), maxBodyBytes: Int) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.maxBodyBytes = maxBodyBytes
    }

    public static let api = HTTPServerLimits(maxConnections: 256, maxBodyBytes: 16 << 20)
    public static let mesh = HTTPServerLimits(maxConnections: 1024, maxBodyBytes: 4 << 20)

    /// The listener's configuration with these limits.
    public func configuration(host: String, port: Int, serverName: String, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: serverName, backlog: 256,
            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections, logger: logger))
    }

    /// An HTTP/1.1 server that closes idle connections.
    public var server: HTTPServerBuilder {
        let (seconds, attoseconds) = idleTimeout.components
        return .http1(configuration: .init(idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
    }

    /// The middleware that answers 413 to a declared body over `maxBodyBytes`.
    public func bodyLimit<Context: RequestContext>() -> BodyLimitMiddleware<Context> {
        BodyLimitMiddleware(maxBodyBytes: maxBodyBytes)
    }
}

/// Answers 413 when a request declares a body larger than `maxBodyBytes`, before reading it.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength], let length = Int(declared), length > maxBodyBytes {
            throw HTTPError(.contentTooLarge, message: "the request body is \(length) bytes; at most \(maxBodyBytes) are accepted here")
        }
        return try await next(request, context)
    }
}
