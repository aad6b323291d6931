import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

/// Cilium's `MCSAPIServiceSpec` as it travels under `cilium/state/serviceexports/v1`, and the
/// MCS-API's conflict resolution over several clusters' exports.
struct MCSAPIServiceSpecTests {
    static let east = try! ClusterName("east")
    static let west = try! ClusterName("west")
    static let north = try! ClusterName("north")

    static func exportedService(affinity: SessionAffinity = .none, labels: [String: String] = ["team": "shop"]) throws -> LocalService {
        var spec = ServiceSpec(
            name: ServiceName(namespace: "shop", name: "api"), clusterIP: IPAddress("127.0.150.10")!,
            ports: [ServicePort(name: "http", port: 80, targetPort: .number(8080), appProtocol: "http"), ServicePort(name: "dns", port: 53, targetPort: .number(53), transport: .udp)],
            sessionAffinity: affinity)
        spec.exported(by: ServiceExportSpec(name: spec.name, creationTimestamp: "2026-11-30T09:00:00Z", exportedLabels: labels))
        return LocalService(spec: spec, ports: [])
    }

    @Test("an exported Service is written as Cilium writes MCSAPIServiceSpec: legacy Labels too, unset fields left out")
    func encodesAsCilium() throws {
        let spec = try #require(MCSAPIServiceSpec.export(try Self.exportedService(affinity: .clientIP(timeout: .seconds(600))), cluster: Self.east, createdText: "unused"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(spec), as: UTF8.self)
        #expect(json == #"{"Labels":{"team":"shop"},"cluster":"east","exportCreationTimestamp":"2026-11-30T09:00:00Z","labels":{"team":"shop"},"name":"api","namespace":"shop","ports":[{"appProtocol":"http","name":"http","port":80,"protocol":"TCP"},{"name":"dns","port":53,"protocol":"UDP"}],"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600}},"type":"ClusterSetIP"}"#)
        #expect(MCSAPIServiceSpec.export(LocalService(spec: ServiceSpec(name: ServiceName(namespace: "a", name: "b"), clusterIP: IPAddress("127.0.0.1")!, ports: []), ports: []), cluster: Self.east, createdText: "") == nil,
                "a Service without a ServiceExport is not exported through the MCS-API")
    }

    /// What Cilium's clustermesh-apiserver writes (`json.Marshal` of the Go struct, with
    /// `ipFamilies`, `internalTrafficPolicy` and only the legacy keys filled, as an older one did).
    static let fromCilium = #"{"cluster":"west","name":"api","namespace":"shop","Labels":{"team":"shop"},"Annotations":{"note":"x"},"exportCreationTimestamp":"2026-11-30T10:00:00Z","ports":[{"name":"http","protocol":"TCP","appProtocol":"http","port":80}],"type":"ClusterSetIP","sessionAffinity":"None","ipFamilies":["IPv4"],"internalTrafficPolicy":"Cluster"}"#

    @Test("a remote cluster's entry, as Cilium writes it, is read by Go's rules and Cilium's checks")
    func decodesCiliumEntry() throws {
        let key = "cilium/state/serviceexports/v1/west/shop/api"
        let export = try MCSAPIServiceSpec.decodeValidated(Array(Self.fromCilium.utf8), key: key, cluster: Self.west)
        #expect(export.cluster == Self.west)
        #expect(export.createdAt == RFC3339Time.milliseconds("2026-11-30T10:00:00Z"))
        #expect(export.ports == [ClusterSetExport.Port(name: "http", protocolName: "TCP", appProtocol: "http", port: 80)])
        #expect(export.labels == ["team": "shop"] && export.annotations == ["note": "x"], "the legacy keys are read when the new ones are empty")
    }

    @Test("an invalid remote entry is refused with the reason, as Cilium refuses it", arguments: [
        (#"{"cluster":"west","name":"api","namespace":"shop","ports":[],"type":"ClusterSetIP","sessionAffinity":"None"}"#, "exportCreationTimestamp '' is not an RFC 3339 time"),
        (#"{"cluster":"north","name":"api","namespace":"shop","exportCreationTimestamp":"2026-11-30T10:00:00Z","type":"ClusterSetIP","sessionAffinity":"None"}"#, "names cluster 'north'"),
        (#"{"cluster":"west","name":"web","namespace":"shop","exportCreationTimestamp":"2026-11-30T10:00:00Z","type":"ClusterSetIP","sessionAffinity":"None"}"#, "names service shop/web but its key names shop/api"),
        (#"{"cluster":"west","name":"api","namespace":"shop","exportCreationTimestamp":"2026-11-30T10:00:00Z","type":"LoadBalancer","sessionAffinity":"None"}"#, "type 'LoadBalancer' is unknown"),
        (#"{"cluster":"west","name":"api","namespace":"shop","exportCreationTimestamp":"2026-11-30T10:00:00Z","type":"ClusterSetIP","sessionAffinity":"Sticky"}"#, "sessionAffinity 'Sticky' is unknown"),
        (#"{"cluster":"west","name":"api","namespace":"shop","exportCreationTimestamp":"2026-11-30T10:00:00Z","type":"ClusterSetIP","sessionAffinity":"None","ports":[{"port":70000}]}"#, "not an MCSAPIServiceSpec JSON value"),
        (#"[1,2]"#, "not an MCSAPIServiceSpec JSON value"),
    ])
    func refusesInvalidEntries(json: String, reason: String) {
        #expect {
            try MCSAPIServiceSpec.decodeValidated(Array(json.utf8), key: "cilium/state/serviceexports/v1/west/shop/api", cluster: Self.west)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("the remote cache keeps exports beside services, drops them on delete and on a resync that no longer lists them")
    func cacheKeepsExports() {
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: try! ClusterID(2))
        let key = "cilium/state/serviceexports/v1/west/shop/api"
        #expect(cache.put(key: key, value: Array(Self.fromCilium.utf8)) == nil)
        #expect(cache.exports[ServiceName(namespace: "shop", name: "api")] != nil && cache.services.isEmpty)
        cache.beginResync()
        cache.finishResync()
        #expect(cache.exports.isEmpty, "not listed again: gone")
        cache.put(key: key, value: Array(Self.fromCilium.utf8))
        cache.delete(key: key)
        #expect(cache.exports.isEmpty)
        #expect(cache.put(key: key, value: Array("{}".utf8)) != nil)
        #expect(cache.invalidEntries == 1)
    }

    static func export(_ cluster: ClusterName, _ time: String, ports: [ClusterSetExport.Port], affinity: String = "None") -> ClusterSetExport {
        ClusterSetExport(cluster: cluster, createdAt: RFC3339Time.milliseconds(time)!, createdText: time, ports: ports, sessionAffinity: affinity)
    }

    static let http80 = ClusterSetExport.Port(name: "http", protocolName: "TCP", port: 80)

    @Test("exports that agree: no conflict, every cluster serves every port, clusters by name")
    func agreeing() throws {
        let view = try #require(ServiceImportView.resolve([
            Self.export(Self.west, "2026-11-02T00:00:00Z", ports: [Self.http80]), Self.export(Self.east, "2026-11-01T00:00:00Z", ports: [Self.http80]),
        ]))
        #expect(view.conditions.map(\.status) == ["False"] && view.conditions[0].reason == "NoConflicts")
        #expect(view.clusters == [Self.east, Self.west] && view.oldestCluster == Self.east)
        #expect(view.serves(port: "http", from: Self.west) && view.serves(port: "http", from: Self.north), "a cluster that does not export through the MCS-API is not judged")
    }

    @Test("a port name taken with another number: the oldest export's port wins, the newer cluster's backends leave it")
    func portConflict() throws {
        let view = try #require(ServiceImportView.resolve([
            Self.export(Self.east, "2026-11-01T00:00:00Z", ports: [Self.http80, ClusterSetExport.Port(name: "admin", protocolName: "TCP", port: 9000)]),
            Self.export(Self.north, "2026-11-03T00:00:00Z", ports: [ClusterSetExport.Port(name: "http", protocolName: "TCP", port: 8080), ClusterSetExport.Port(name: "admin", protocolName: "TCP", port: 9000)]),
        ]))
        #expect(view.conditions[0].status == "True" && view.conditions[0].reason == "PortConflict")
        #expect(view.conditions[0].message.contains(#"Duplicated port name "http": north exports 8080/TCP. Using port definition 80/TCP from oldest service export in cluster "east""#))
        #expect(view.ports.map(\.description) == ["80/TCP", "9000/TCP"])
        #expect(!view.serves(port: "http", from: Self.north) && view.serves(port: "admin", from: Self.north), "the ports that agree keep working")
        #expect(view.serves(port: "http", from: Self.east))
    }

    @Test("session affinity that differs: reported, the oldest's is the cluster set's; equal times go by cluster name")
    func sessionAffinityConflict() throws {
        let view = try #require(ServiceImportView.resolve([
            Self.export(Self.west, "2026-11-01T00:00:00Z", ports: [Self.http80], affinity: "ClientIP"),
            Self.export(Self.east, "2026-11-01T00:00:00Z", ports: [Self.http80]),
        ]))
        #expect(view.oldestCluster == Self.east, "same time: the first name wins")
        #expect(view.conditions[0].reason == "SessionAffinityConflict")
        #expect(view.conditions[0].message == #"Conflicting sessionAffinity. 1/2 clusters disagree (west). Using "None" from oldest service export in cluster "east"."#)
        #expect(view.sessionAffinity == "None" && view.serves(port: "http", from: Self.west), "an affinity conflict takes no backends away")
    }

    @Test("RFC 3339 to milliseconds and back, with offsets and fractions")
    func times() {
        #expect(RFC3339Time.milliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339Time.milliseconds("2026-11-30T10:00:00.250+01:00") == RFC3339Time.milliseconds("2026-11-30T09:00:00Z")! + 250)
        #expect(RFC3339Time.text(milliseconds: RFC3339Time.milliseconds("2024-02-29T23:59:59Z")!) == "2024-02-29T23:59:59Z")
        #expect(RFC3339Time.milliseconds("2026-13-01T00:00:00Z") == nil)
    }
}
