import InterlinkCore

/// Polls `condition` every 20 ms until it holds or `timeout` passes; true if it held.
func waitUntil(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return false
}

/// Opens `count` connections to `frontend` one after another and counts the backends that
/// answered (each test backend greets with its name).
func tallyBackends(_ frontend: SocketEndpoint, _ count: Int) async throws -> [String: Int] {
    var names: [String: Int] = [:]
    for _ in 0..<count { names[try await TestClient.firstLine(from: frontend), default: 0] += 1 }
    return names
}

/// `body` ran past its time limit: a missing event fails the test instead of hanging it.
struct TimeLimitExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "nothing came within \(limit)" }
}

/// Runs `body`, cancelling it and throwing `TimeLimitExceeded` if it takes longer than `limit`.
func withTimeLimit<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimeLimitExceeded(limit: limit) }
        return value
    }
}
