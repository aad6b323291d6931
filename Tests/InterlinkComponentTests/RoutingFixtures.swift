import Foundation
import InterlinkAgent
import InterlinkCore
import InterlinkMesh
@testable import InterlinkProxy
import Logging
import NIOConcurrencyHelpers

/// Services, remote clusters and a recording data plane for the routing component tests.
enum Fixture {
    static let east = try! ClusterName("east")
    static let west = try! ClusterName("west")
    static let name = ServiceName(namespace: "default", name: "echo")
    static let frontend = Frontend(SocketEndpoint("127.0.60.10:80")!)
    static let logger = Logger(label: "test")

    static func local(_ index: Int) -> SocketEndpoint { SocketEndpoint("127.0.60.\(10 + index):9000")! }
    static func remote(_ index: Int) -> SocketEndpoint { SocketEndpoint("127.0.61.\(10 + index):9000")! }

    /// `default/echo` on 127.0.60.10:80 with `backends` local backends 127.0.60.11... and the
    /// annotations given (global by default).
    static func services(backends: Int = 2, annotations: [String: String] = [ServiceAnnotations.global: "true"], extraSpec: String = "") -> [LocalService] {
        let annotationLines = annotations.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
        let endpoints = (1...max(1, backends)).prefix(backends).map { "  - addresses: [\"127.0.60.\(10 + $0)\"]\n    conditions: {ready: true}" }
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: echo
              annotations:
            \(annotationLines.isEmpty ? "    {}" : annotationLines)
            spec:
              clusterIP: "127.0.60.10"
              ports:
                - name: tcp
                  port: 80
            \(extraSpec)
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: echo-1
              labels:
                kubernetes.io/service-name: echo
            addressType: IPv4
            endpoints:
            \(endpoints.isEmpty ? "  []" : endpoints.joined(separator: "\n"))
            ports:
              - name: tcp
                port: 9000
            """
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: "echo.yaml")
        precondition(problems.isEmpty, "\(problems)")
        return set.localServices(cluster: east)
    }

    /// West's export of `default/echo` with `backends` backends 127.0.61.11...
    static func westCache(backends: Int) -> RemoteServiceCache {
        var cache = RemoteServiceCache(cluster: west, clusterID: try! ClusterID(2))
        let addresses = (0..<backends).map { "\"127.0.61.\(11 + $0)\":{\"tcp\":{\"Protocol\":\"TCP\",\"Port\":9000}}" }.joined(separator: ",")
        cache.put(key: "cilium/state/services/v1/west/default/echo", value: Array("""
            {"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,\
            "backends":{\(addresses)},"frontends":{}}
            """.utf8))
        return cache
    }

    static func writer(_ services: [LocalService], clock: ManualClock) -> RoutingWriter {
        RoutingWriter(RoutingState(cluster: east, clusterID: try! ClusterID(1), services: services), clock: clock, logger: logger)
    }
}

/// A data plane that only records: what was bound, and every route it was given.
final class RecordingTarget: RouteTarget {
    enum Call: Sendable {
        case listen([Frontend])
        case apply([FrontendRoute])
        case publish([FrontendRoute])
    }

    private let recorded = NIOLockedValueBox<[Call]>([])
    private let current = NIOLockedValueBox<[Frontend: FrontendRoute]>([:])
    let refuse: Set<Frontend>

    init(refusing refuse: Set<Frontend> = []) {
        self.refuse = refuse
    }

    var calls: [Call] { recorded.withLockedValue { $0 } }
    var publications: Int { calls.count { if case .listen = $0 { false } else { true } } }

    /// The route a frontend has now.
    func route(_ frontend: Frontend = Fixture.frontend) -> FrontendRoute? { current.withLockedValue { $0[frontend] } }

    /// The backends a frontend's route sends new connections to.
    func backends(_ frontend: Frontend = Fixture.frontend) -> Set<SocketEndpoint> { Set(route(frontend)?.backends.map(\.endpoint) ?? []) }

    func listen(_ frontends: [Frontend: ServiceName]) async throws {
        if let refused = frontends.keys.first(where: refuse.contains) { throw ProxyError.bindFailed(["cannot listen on \(refused)"]) }
        recorded.withLockedValue { $0.append(.listen(frontends.keys.sorted())) }
    }

    func apply(_ routes: [FrontendRoute]) async throws {
        recorded.withLockedValue { $0.append(.apply(routes)) }
        current.withLockedValue { current in current = Dictionary(routes.map { ($0.frontend, $0) }, uniquingKeysWith: { $1 }) }
    }

    func publish(_ routes: [FrontendRoute]) {
        recorded.withLockedValue { $0.append(.publish(routes)) }
        current.withLockedValue { current in for route in routes where current[route.frontend] != nil { current[route.frontend] = route } }
    }
}

/// Polls `condition` until it holds, yielding to the tasks under test in between; false after
/// `limit` real seconds (a generous bound: the tasks only need to be scheduled).
func eventually(_ limit: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return await condition()
}
