import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

struct ClusterServiceTests {
    static let west = try! ClusterName("west")
    static let westID = try! ClusterID(2)
    static let key = "cilium/state/services/v1/west/default/echo"

    /// The example of DESIGN.md §5, as Cilium writes it.
    static let ciliumJSON = """
        {"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,\
        "backends":{"10.0.0.2":{"http":{"Protocol":"TCP","Port":8080}}},\
        "frontends":{"10.96.0.10":{"http":{"Protocol":"TCP","Port":80}}},"labels":{},"selector":{}}
        """

    static func decode(_ json: String, key: String = key) throws(InvalidRemoteEntry) -> RemoteService {
        try ClusterService.decodeValidated(Array(json.utf8), key: key, cluster: west, clusterID: westID)
    }

    @Test("Cilium's JSON decodes into remote backends of the right cluster")
    func decodesCiliumFormat() throws {
        let service = try Self.decode(Self.ciliumJSON)
        #expect(service.name == ServiceName(namespace: "default", name: "echo"))
        #expect(service.isGlobal && service.isShared)
        #expect(service.backends["http"]?.map(\.endpoint.description) == ["10.0.0.2:8080"])
        #expect(service.backends["http"]?.first?.cluster == Self.west)
    }

    @Test("encoding keeps Cilium's field names")
    func encodesCiliumFieldNames() throws {
        let entry = ClusterService(
            cluster: "west", namespace: "default", name: "echo",
            frontends: ["10.96.0.10": ["http": .init(port: 80)]], backends: ["10.0.0.2": ["http": .init(port: 8080)]],
            includeExternal: true, shared: true, clusterID: 2)
        let json = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        for field in ["\"cluster\":\"west\"", "\"clusterID\":2", "\"includeExternal\":true", "\"shared\":true", "\"Protocol\":\"TCP\"", "\"Port\":8080"] {
            #expect(json.contains(field), "\(json) lacks \(field)")
        }
        #expect(try Self.decode(json).backends["http"]?.count == 1, "what we write, we read back")
    }

    struct BadEntry: CustomTestStringConvertible, Sendable {
        var name: String
        var json: String
        var key: String = ClusterServiceTests.key
        var reason: String
        var testDescription: String { name }
    }

    static let badEntries: [BadEntry] = [
        BadEntry(name: "garbage bytes", json: "\u{1}\u{2}not json", reason: "not a ClusterService JSON value"),
        BadEntry(name: "missing field", json: #"{"cluster":"west"}"#, reason: "is missing"),
        BadEntry(name: "another cluster's name", json: ciliumJSON.replacingOccurrences(of: "\"cluster\":\"west\"", with: "\"cluster\":\"east\""),
                 reason: "names cluster 'east'"),
        BadEntry(name: "key of another cluster", json: ciliumJSON, key: "cilium/state/services/v1/east/default/echo", reason: "under the key of 'east'"),
        BadEntry(name: "name differs from key", json: ciliumJSON, key: "cilium/state/services/v1/west/default/other", reason: "its key names default/other"),
        BadEntry(name: "wrong cluster ID", json: ciliumJSON.replacingOccurrences(of: "\"clusterID\":2", with: "\"clusterID\":9"), reason: "has clusterID 9"),
        BadEntry(name: "bad backend IP", json: ciliumJSON.replacingOccurrences(of: "10.0.0.2", with: "10.0.0.300"), reason: "is not an IP address"),
        BadEntry(name: "not a service key", json: ciliumJSON, key: "cilium/state/services/v1/west/echo", reason: "not a service key"),
        BadEntry(name: "port not a number", json: ciliumJSON.replacingOccurrences(of: #""Port":8080"#, with: #""Port":"8080""#),
                 reason: "field 'backends.10.0.0.2.http.Port' has the wrong type"),
        BadEntry(name: "more forZones than Kubernetes allows",
                 json: ciliumJSON.replacingOccurrences(of: #""labels":{}"#, with: #""zones":{"10.0.0.2":{"zone":"a","forZones":[{"name":"1"},{"name":"2"},{"name":"3"},{"name":"4"},{"name":"5"},{"name":"6"},{"name":"7"},{"name":"8"},{"name":"9"}]}},"labels":{}"#),
                 reason: "zones key '10.0.0.2' lists 9 forZones: Kubernetes allows at most 8"),
        BadEntry(name: "port out of range", json: ciliumJSON.replacingOccurrences(of: #""Port":8080"#, with: #""Port":70000"#),
                 reason: "field 'backends.10.0.0.2.http.Port'"),
    ]

    @Test("maps Go wrote as null (a nil map) or left out are empty: a service with no backends")
    func nullMapsAreEmpty() throws {
        let json = #"{"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,"backends":null,"labels":null}"#
        let service = try Self.decode(json)
        #expect(service.backends.isEmpty)
        #expect(service.isGlobal)
    }

    @Test("invalid remote entries are refused with a reason naming the key", arguments: badEntries)
    func invalidEntries(_ entry: BadEntry) {
        do {
            _ = try Self.decode(entry.json, key: entry.key)
            Issue.record("accepted: \(entry.json)")
        } catch {
            #expect(error.key == entry.key)
            #expect(error.reason.contains(entry.reason), "reason: \(error.reason)")
        }
    }

    @Test("TCP and UDP ports are kept with their protocol, SCTP ports left out; a local port takes only the remote port of its name and protocol")
    func portProtocols() throws {
        let json = Self.ciliumJSON.replacingOccurrences(
            of: #"{"http":{"Protocol":"TCP","Port":8080}}"#,
            with: #"{"http":{"Protocol":"TCP","Port":8080},"dns":{"Protocol":"UDP","Port":53},"sig":{"Protocol":"SCTP","Port":99}}"#)
        let service = try Self.decode(json)
        #expect(service.backends.keys.sorted() == ["dns", "http"])
        #expect(service.transports == ["dns": .udp, "http": .tcp])
        #expect(service.backends(for: ServicePort(name: "dns", port: 53, targetPort: .number(53), transport: .udp)).map(\.endpoint.port) == [53])
        #expect(service.backends(for: ServicePort(name: "dns", port: 53, targetPort: .number(53), transport: .tcp)).isEmpty, "a TCP port of the same name takes no UDP backend")
    }

    /// Decoded only (never fed to an agent), so Cilium's own addresses stay as Cilium wrote them.
    static func decodeCilium(_ json: String, cluster: String, id: Int, key: String) throws -> RemoteService {
        try ClusterService.decodeValidated(Array(json.utf8), key: key, cluster: try ClusterName(cluster), clusterID: try ClusterID(id))
    }

    @Test("Cilium's own test vector (pkg/clustermesh/testdata/clusterservice.txtar) is imported: includeExternal left out is false")
    func ciliumTestVector() throws {
        let json = #"{"name":"echo","namespace":"test","shared":true,"cluster":"cluster2","clusterID":2,"backends":{"20.0.0.2":{"tcp":{"Protocol":"TCP","Port":9090}}}}"#
        let service = try Self.decodeCilium(json, cluster: "cluster2", id: 2, key: "cilium/state/services/v1/cluster2/test/echo")
        #expect(service.isShared && !service.isGlobal, "shared decides the import; includeExternal is false when missing")
        #expect(service.backends["tcp"]?.map(\.endpoint.description) == ["20.0.0.2:9090"])
    }

    @Test("what Cilium's exporter writes (globalnamespace-services.txtar) decodes, and so does its KVStoreMesh cache copy")
    func ciliumExporterEntry() throws {
        let json = #"{"cluster":"cluster3","namespace":"ns-alpha","name":"echo-service","frontends":{"10.96.0.10":{"http":{"Protocol":"TCP","Port":80}}},"backends":{"10.244.1.10":{"http":{"Protocol":"TCP","Port":8080}}},"labels":{},"selector":{"app":"echo"},"includeExternal":true,"shared":true,"clusterID":3}"#
        for root in ["cilium/state/services/v1", "cilium/cache/services/v1"] {
            let service = try Self.decodeCilium(json, cluster: "cluster3", id: 3, key: "\(root)/cluster3/ns-alpha/echo-service")
            #expect(service.name == ServiceName(namespace: "ns-alpha", name: "echo-service"))
            #expect(service.backends["http"]?.map(\.endpoint.description) == ["10.244.1.10:8080"])
        }
    }

    @Test("zones and hostnames (Cilium 1.19) are read, kept on the backends, and written back as Cilium writes them")
    func zonesAndHostnames() throws {
        let json = Self.ciliumJSON.replacingOccurrences(of: #""labels":{}"#, with: #""hostnames":{"10.0.0.2":"echo-0"},"zones":{"10.0.0.2":{"zone":"eu-west-1a","forZones":[{"name":"eu-west-1a"},{"name":"eu-west-1b"}]}},"labels":{}"#)
        let backend = try #require(try Self.decode(json).backends["http"]?.first)
        #expect(backend.zone == "eu-west-1a" && backend.hostname == "echo-0")
        #expect(backend.forZones == ["eu-west-1a", "eu-west-1b"])
        let entry = try JSONDecoder().decode(ClusterService.self, from: Data(json.utf8))
        #expect(entry.zones?["10.0.0.2"]?.forZones.map(\.name) == ["eu-west-1a", "eu-west-1b"])
        let encoded = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        #expect(encoded.contains(#""forZones":[{"name":"eu-west-1a"},{"name":"eu-west-1b"}]"#) && encoded.contains(#""hostnames":{"10.0.0.2":"echo-0"}"#))
        let bare = String(decoding: try JSONEncoder().encode(try JSONDecoder().decode(ClusterService.self, from: Data(Self.ciliumJSON.utf8))), as: UTF8.self)
        #expect(!bare.contains("zones") && !bare.contains("hostnames"), "left out when empty (omitempty): \(bare)")
    }

    @Test("Go's rules: names match case-insensitively, unknown fields and null values are ignored")
    func goRules() throws {
        let json = #"{"Cluster":"west","ClusterID":2,"NAMESPACE":"default","name":"echo","Shared":true,"includeExternal":null,"future":{"x":[1]},"backends":{"10.0.0.2":{"http":{"protocol":"TCP","port":8080},"gone":null}}}"#
        let service = try Self.decode(json)
        #expect(service.isShared && !service.isGlobal)
        #expect(service.backends["http"]?.map(\.endpoint.description) == ["10.0.0.2:8080"])
    }

    @Test("frontend and backend keys must be IPs without a zone: the error names the key", arguments: [
        (#""backends":{"fe80::1%eth0""#, "backends key 'fe80::1%eth0' has an IPv6 zone suffix"),
        (#""frontends":{"echo.local""#, "frontends key 'echo.local' is not an IP address"),
        (#""backends":{"10.0.0.2:80""#, "backends key '10.0.0.2:80' is not an IP address"),
    ])
    func addressKeys(_ replacement: String, _ reason: String) {
        let field = replacement.hasPrefix(#""backends""#) ? #""backends":{"10.0.0.2""# : #""frontends":{"10.96.0.10""#
        let json = Self.ciliumJSON.replacingOccurrences(of: field, with: replacement)
        do {
            _ = try Self.decode(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
