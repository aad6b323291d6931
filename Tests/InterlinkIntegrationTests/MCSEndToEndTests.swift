import Foundation
import InterlinkAPI
import InterlinkCore
import Testing

/// The MCS-API across three agent processes: a `ServiceExport` beside a Service (no Cilium
/// annotation) makes it global across the mesh, as the annotation does; each cluster writes it
/// in Cilium's `MCSAPIServiceSpec` format, which etcdctl reads back; the ServiceImport view
/// and its Conflict condition come from every cluster's export, the oldest winning.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MCSEndToEndTests {
    static let created = ["east": "2026-11-01T08:00:00Z", "west": "2026-11-02T08:00:00Z", "north": "2026-11-03T08:00:00Z"]

    /// `ServiceExport` of `name` in `cluster`, in its own file.
    static func export(_ name: String, in cluster: MeshCluster, version: String = "v1beta1") throws {
        let yaml = """
            apiVersion: multicluster.x-k8s.io/\(version)
            kind: ServiceExport
            metadata:
              name: \(name)
              namespace: default
              creationTimestamp: "\(created[cluster.name]!)"
            """
        try yaml.write(to: cluster.manifestsDir.appendingPathComponent("\(name)-export.yaml"), atomically: true, encoding: .utf8)
    }

    static func service(_ cluster: MeshCluster, _ name: String) async throws -> ServicesDocument.Service? {
        try await cluster.services().services.first { $0.name == name }
    }

    @Test("ServiceExport works across three clusters like the global annotation; Cilium's format in the store; a port conflict is reported and only the disagreeing port loses that cluster")
    func exportAcrossTheMesh() async throws {
        try EtcdServer.require(for: .embedded)
        let mesh = try await Mesh.make(.embedded, subnets: [150, 151, 152])
        for cluster in mesh.all {
            try cluster.addService("spread", port: 8201, annotations: ClusterMeshEndToEndTests.fast)
            try Self.export("spread", in: cluster, version: cluster.name == "west" ? "v1alpha1" : "v1beta1")
            // north's "tcp" port of api has another number: a conflict the oldest (east) wins.
            try cluster.addService("api", port: cluster.name == "north" ? 8203 : 8202, annotations: ClusterMeshEndToEndTests.fast)
            try Self.export("api", in: cluster)
        }
        do {
            try await mesh.start()

            // As global: 600 connections from each cluster reach all six backends.
            for cluster in mesh.all {
                #expect(await waitUntil(.seconds(10)) { (try? await tallyBackends(cluster.frontend(8201), 30))?.count == 6 })
                let tally = try await tallyBackends(cluster.frontend(8201), 600)
                #expect(tally.count == 6 && tally.values.allSatisfy { (60...140).contains($0) }, "\(cluster.name): \(tally)")
            }
            let spread = try #require(try await Self.service(mesh.east, "spread"))
            #expect(spread.global && spread.shared)
            #expect(spread.clusterSet?.clusters == ["east", "north", "west"] && spread.clusterSet?.oldestCluster == "east")
            #expect(spread.clusterSet?.conflict == nil && spread.clusterSet?.conditions.first?.reason == "NoConflicts")

            // The ServiceImport a user of the MCS-API expects.
            let yaml = try await Mesh.interlink(["services", "default/spread", "-o", "yaml", "--api", mesh.west.apiURL])
            for line in [
                "apiVersion: multicluster.x-k8s.io/v1beta1", "kind: ServiceImport", "  name: spread", "  - 127.0.151.10", "  type: ClusterSetIP",
                "  - name: tcp\n    protocol: TCP\n    port: 8201", "  sessionAffinity: None", "  - cluster: east\n  - cluster: north\n  - cluster: west",
                "  - type: Conflict\n    status: 'False'\n    reason: NoConflicts",
            ] {
                #expect(yaml.contains(line), "missing \(line) in:\n\(yaml)")
            }

            // Cilium's format in east's store, read with etcdctl.
            let etcdctl = Etcdctl(endpoint: mesh.east.storeURL, certificates: nil)
            let value = try await etcdctl.succeed(["get", "--print-value-only", "cilium/state/serviceexports/v1/east/default/spread"])
            #expect(value.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"cluster":"east","exportCreationTimestamp":"2026-11-01T08:00:00Z","name":"spread","namespace":"default","ports":[{"name":"tcp","port":8201,"protocol":"TCP"}],"sessionAffinity":"None","type":"ClusterSetIP"}"#, "\(value)")
            let config = try await etcdctl.succeed(["get", "--print-value-only", "cilium/cluster-config/east"])
            #expect(config.contains(#""serviceExportsEnabled":true"#), "\(config)")
            #expect(try await etcdctl.succeed(["get", "--keys-only", "cilium/synced/east/cilium/state/serviceexports/v1"]).contains("serviceexports"))

            // api: east's ServiceImport has north's conflicting port; east's frontend takes
            // west's backends but not north's, and north's agent reports the conflict too.
            #expect(await waitUntil(.seconds(10)) { (try? await Self.service(mesh.east, "api"))??.clusterSet?.clusters.count == 3 })
            let api = try #require(try await Self.service(mesh.east, "api"))
            #expect(api.clusterSet?.conflict?.reason == "PortConflict", "\(String(describing: api.clusterSet?.conditions))")
            #expect(api.clusterSet?.conflict?.message.contains(#"Duplicated port name "tcp": north exports 8203/TCP. Using port definition 8202/TCP from oldest service export in cluster "east""#) == true)
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8202), 200)) == ["east", "west"])
            #expect(try await Self.service(mesh.north, "api")?.clusterSet?.conflict?.reason == "PortConflict")
            let table = try await Mesh.interlink(["services", "default/api", "--api", mesh.east.apiURL])
            #expect(table.contains("exported (ServiceExport)") && table.contains("Conflict=True (PortConflict)"), "\(table)")

            // Live: east's ServiceExport of spread is removed from its files: east no longer
            // exports it, and west stops sending it traffic.
            try FileManager.default.removeItem(at: mesh.east.manifestsDir.appendingPathComponent("spread-export.yaml"))
            #expect(await waitUntil(.seconds(10)) {
                (try? await tallyBackends(mesh.west.frontend(8201), 40)).map { !MeshCluster.clusters(of: $0).contains("east") } ?? false
            })
            #expect(try await etcdctl.succeed(["get", "--keys-only", "--prefix", "cilium/state/serviceexports/v1/east/default/spread"]).isEmpty)
            #expect(try await Self.service(mesh.east, "spread")?.global == false)
        } catch {
            await mesh.shutdown()
            throw error
        }
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }
}
