import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The operator commands against agent processes: status, services, explain, annotate,
/// drain/undrain, and the demo end to end.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct OperatorCommandTests {
    @Test("status, services and explain show the mesh; annotate and drain change it live and survive a restart")
    func inspectAndChange() async throws {
        let mesh = try await Mesh.make(.embedded)
        for cluster in [mesh.east, mesh.west] {
            try cluster.addService("echo", port: 8041, annotations: ClusterMeshEndToEndTests.global.merging(["service.cilium.io/affinity": "local"]) { $1 })
        }
        do {
            for cluster in [mesh.east, mesh.west] { try cluster.startAgent() }
            for cluster in [mesh.east, mesh.west] { #expect(await cluster.waitHealthy()) }
            try await Mesh.interlink(["connect", "--timeout", "20s", mesh.east.apiURL, mesh.west.apiURL])
            let api = ["--api", mesh.east.apiURL]

            let status = try await Mesh.interlink(["status", "--wait", "--wait-duration", "10s"] + api)
            #expect(status.contains("cluster east (ID 1), kvstore embedded") && status.contains("(healthy, last export"), "\(status)")
            #expect(status.contains("west") && status.contains("yes"), "\(status)")
            let services = try await Mesh.interlink(["services", "default/echo"] + api)
            #expect(services.contains("affinity=local") && services.contains("west") && services.contains("no: affinity local"), "\(services)")
            let explained = try await Mesh.interlink(["explain", "default/echo"] + api)
            #expect(explained.contains("affinity=local: east has 2 of 2 backends healthy, so new connections stay in east"), "\(explained)")

            // Maintenance: affinity remote, live.
            #expect(try await Mesh.interlink(["annotate", "service", "default/echo", "service.cilium.io/affinity=remote"] + api).contains("annotated"))
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8041), 30)) == ["west"])
            let afterAnnotate = try await Mesh.interlink(["explain", "default/echo"] + api)
            #expect(afterAnnotate.contains("affinity=remote: new connections go to west (2 healthy)") && afterAnnotate.contains("annotate"), "\(afterAnnotate)")
            // An invalid value changes nothing and is named.
            let bad = try await InterlinkProcess.run(["annotate", "service", "default/echo", "service.cilium.io/affinity=sideways"] + api)
            #expect(bad.status == 1 && bad.stderr.contains("sideways") && bad.stderr.contains("service.cilium.io/affinity"), "\(bad.stderr)")
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8041), 20)) == ["west"])

            // Drain one of west's backends: east stops using it; undrain brings it back.
            let drainedBackend = mesh.west.backendEndpoint(1).description
            try await Mesh.interlink(["drain", "backend", drainedBackend] + api)
            #expect(try await tallyBackends(mesh.east.frontend(8041), 30) == ["west-b2": 30])
            let afterDrain = try await Mesh.interlink(["explain", "default/echo"] + api)
            #expect(afterDrain.contains("): drain \(drainedBackend): taken out of new traffic by an operator"), "explain says since when: \(afterDrain)")
            let unknown = try await InterlinkProcess.run(["drain", "backend", "127.0.99.99:1"] + api)
            #expect(unknown.status == 1 && unknown.stderr.contains("not a backend"), "\(unknown.stderr)")

            // Restart east: the annotation and the drain are still there.
            if let process = mesh.east.process { process.terminate(); process.waitUntilExit() }
            try mesh.east.startAgent()
            #expect(await mesh.east.waitHealthy())
            #expect(await waitUntil(.seconds(10)) {
                (try? await tallyBackends(mesh.east.frontend(8041), 20)) == ["west-b2": 20]
            }, "affinity remote and the drain survived the restart")
            try await Mesh.interlink(["undrain", "backend", drainedBackend] + api)
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8041), 60)) == ["west"])
            #expect(try await tallyBackends(mesh.east.frontend(8041), 60).keys.sorted() == ["west-b1", "west-b2"])

            // No agent there: a clear error, not a stack trace.
            let nowhere = try await InterlinkProcess.run(["status", "--api", "http://127.0.0.1:1"])
            #expect(nowhere.status == 1 && nowhere.stderr.contains("cannot reach the agent at http://127.0.0.1:1"), "\(nowhere.stderr)")
        } catch {
            await mesh.shutdown()
            throw error
        }
        await mesh.shutdown()
    }

    @Test("interlink demo, in short phases, its stores over mutual TLS: every phase behaves and the table says so")
    func demo() async throws {
        let result = try await InterlinkProcess.run(["demo", "--phase-seconds", "3s", "--subnet", "96"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        for phase in ["affinity none", "affinity local", "east's backends fail", "east's backends are back", "affinity remote"] {
            let row = result.stdout.split(separator: "\n").first { $0.hasPrefix(phase) && ($0.hasSuffix("ok") || $0.hasSuffix("EXPECTED")) }
            #expect(row?.hasSuffix("ok") == true, "\(phase): \(row ?? "missing")")
        }
        #expect(result.stdout.contains("every phase behaved"))
        #expect(result.stdout.contains("connected, east reading https://127.0.97.1:9877 and west reading https://127.0.96.1:9877, each with a client certificate of CN remote"), "\(result.stdout)")
    }

    @Test("apply adds and changes services live, refusing invalid input whole; delete removes one; both survive a restart")
    func applyAndDelete() async throws {
        let mesh = try await Mesh.make(.embedded)
        try mesh.east.addService("first", port: 8071, annotations: ClusterMeshEndToEndTests.fast)
        do {
            try mesh.east.startAgent()
            #expect(await mesh.east.waitHealthy())
            let api = ["--api", mesh.east.apiURL]
            #expect(try await tallyBackends(mesh.east.frontend(8071), 40).count == 2, "both backends of first answer")

            // A second service on a new port: listening at once.
            var second = TestManifest(
                clusterIP: "127.0.70.10", port: 8072, backendIPs: ["127.0.70.11"], backendPort: mesh.east.backendPort,
                annotations: ClusterMeshEndToEndTests.fast)
            second.name = "second"
            let dir = try second.write()
            let applied = try await Mesh.interlink(["apply", "-f", dir] + api)
            #expect(applied.contains("service/default/second created"), "\(applied)")
            #expect(try await tallyBackends(mesh.east.frontend(8072), 10) == ["east-b1": 10])

            // A field error and a conflict with the services in force are refused by the agent,
            // naming the file (exit 2, as validate). Neither changes anything.
            var broken = second
            broken.backendPort = 0
            let fieldError = try await InterlinkProcess.run(["apply", "-f", try broken.write()] + api)
            #expect(fieldError.status == 2 && fieldError.stderr.contains("nothing changed"), "\(fieldError.stderr)")
            var clash = second
            clash.name = "third"
            clash.port = 8071  // the frontend of `first`
            let conflict = try await InterlinkProcess.run(["apply", "-f", try clash.write()] + api)
            #expect(conflict.status == 2 && conflict.stderr.contains("already used by Service default/first"), "\(conflict.stderr)")
            #expect(try await tallyBackends(mesh.east.frontend(8071), 40).count == 2, "both backends of first answer")

            // Delete: the frontend stops listening.
            #expect(try await Mesh.interlink(["delete", "service", "default/first"] + api).contains("deleted"))
            #expect((try? await TestClient.firstLine(from: mesh.east.frontend(8071))) == nil, "first's frontend is closed")
            let missing = try await InterlinkProcess.run(["delete", "service", "default/nothing"] + api)
            #expect(missing.status == 1 && missing.stderr.contains("no service default/nothing"))

            // Restart: second is still there, first still gone.
            if let process = mesh.east.process { process.terminate(); process.waitUntilExit() }
            try mesh.east.startAgent()
            #expect(await mesh.east.waitHealthy())
            #expect(await waitUntil(.seconds(10)) { (try? await tallyBackends(mesh.east.frontend(8072), 5)) == ["east-b1": 5] })
            #expect((try? await TestClient.firstLine(from: mesh.east.frontend(8071))) == nil)
        } catch {
            await mesh.shutdown()
            throw error
        }
        await mesh.shutdown()
    }

    @Test("with --api-token-file, changes need the token and reads do not")
    func tokenGuardsChanges() async throws {
        let mesh = try await Mesh.make(.embedded)
        try mesh.east.addService("guarded", port: 8081, annotations: ClusterMeshEndToEndTests.fast)
        let tokenFile = mesh.east.dataDir.deletingLastPathComponent().appendingPathComponent("token")
        try "s3cret-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let wrongFile = mesh.east.dataDir.deletingLastPathComponent().appendingPathComponent("wrong")
        try "not-it".write(to: wrongFile, atomically: true, encoding: .utf8)
        mesh.east.extraArguments = ["--api-token-file", tokenFile.path]
        do {
            try mesh.east.startAgent()
            #expect(await mesh.east.waitHealthy())
            let api = ["--api", mesh.east.apiURL]
            #expect(try await Mesh.interlink(["services"] + api).contains("default/guarded"), "reads need no token")
            let anonymous = try await InterlinkProcess.run(["drain", "backend", mesh.east.backendEndpoint(1).description] + api)
            #expect(anonymous.status == 1 && anonymous.stderr.contains("Authorization: Bearer"), "\(anonymous.stderr)")
            let wrong = try await InterlinkProcess.run(["drain", "backend", mesh.east.backendEndpoint(1).description, "--api-token-file", wrongFile.path] + api)
            #expect(wrong.status == 1)
            // Every mutating route answers 401 without the token or with a wrong one.
            let routes: [(HTTPMethod, String, String)] = [
                (.POST, "/v1/clusters", #"{"name":"west","endpoints":["http://127.0.0.1:1"]}"#), (.DELETE, "/v1/clusters/west", ""),
                (.POST, "/v1/services/default/guarded/annotations", #"{"set":{"service.cilium.io/affinity":"local"}}"#),
                (.POST, "/v1/manifests", #"{"files":[{"name":"x.yaml","yaml":""}]}"#), (.DELETE, "/v1/services/default/guarded", ""),
                (.POST, "/v1/backends/drain", #"{"address":"\#(mesh.east.backendEndpoint(1))"}"#),
                (.POST, "/v1/backends/undrain", #"{"address":"\#(mesh.east.backendEndpoint(1))"}"#),
            ]
            for (method, path, body) in routes {
                for authorization in [nil, "Bearer not-it", "Basic s3cret-token", "Bearer s3cret-token-and-more"] as [String?] {
                    var request = HTTPClientRequest(url: mesh.east.apiURL + path)
                    request.method = method
                    if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                    if !body.isEmpty { request.body = .bytes(ByteBuffer(string: body)) }
                    let status = try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status
                    #expect(status == .unauthorized, "\(method) \(path) with \(authorization ?? "no token"): \(status)")
                }
            }
            #expect(try await tallyBackends(mesh.east.frontend(8081), 40).count == 2, "nothing was drained")
            try await Mesh.interlink(["drain", "backend", mesh.east.backendEndpoint(1).description, "--api-token-file", tokenFile.path] + api)
            #expect(try await tallyBackends(mesh.east.frontend(8081), 20) == ["east-b2": 20])
        } catch {
            await mesh.shutdown()
            throw error
        }
        await mesh.shutdown()
    }
}
