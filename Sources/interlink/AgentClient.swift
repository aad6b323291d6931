import AsyncHTTPClient
import Foundation
import InterlinkAPI
import NIOCore
import NIOHTTP1

/// Talks to a running agent's API for the client commands; every failure is a message that
/// names the agent and what to do.
struct AgentClient: Sendable {
    let baseURL: String
    let token: String?

    init(_ url: String, token: String?) {
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
    }

    func clusters() async throws -> ClustersDocument {
        try await get("/v1/clusters")
    }

    func get<Document: Decodable>(_ path: String) async throws -> Document {
        let (status, body) = try await send(.GET, path)
        guard status == 200 else { throw AgentClientError("\(baseURL)\(path) answered \(status): \(body)") }
        do {
            return try JSONDecoder().decode(Document.self, from: Data(body.utf8))
        } catch {
            throw AgentClientError("\(baseURL) is not an interlink agent of this version (\(path): \(error))")
        }
    }

    /// Sends a request without a body; returns the status and the body (an error message for 4xx/5xx).
    func send(_ method: HTTPMethod, _ path: String) async throws -> (Int, String) {
        try await send(method, path, body: nil as ConnectRequest?)
    }

    /// Sends `body` as JSON; returns the status and the body (an error message for 4xx/5xx).
    func send<Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        } catch {
            throw AgentClientError("cannot reach the agent at \(baseURL) (\(error)): is it running? Check the address (--api or INTERLINK_API)")
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        var text = String(buffer: body)
        if response.status.code >= 400, let answer = try? JSONDecoder().decode(APIErrorBody.self, from: Data(text.utf8)) {
            text = answer.error.message
        }
        return (Int(response.status.code), text)
    }
}

struct AgentClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
