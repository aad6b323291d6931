import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

struct ExportTests {
    static let east = try! ClusterName("east")
    static let eastID = try! ClusterID(1)

    static func service(global: Bool, shared: Bool) -> LocalService {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: echo
              annotations: {service.cilium.io/global: "\(global)", service.cilium.io/shared: "\(shared)"}
            spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: echo-1, labels: {kubernetes.io/service-name: echo}}
            addressType: IPv4
            endpoints:
              - {addresses: [10.0.0.1], hostname: a, zone: z1, hints: {forZones: [{name: z1}, {name: z2}]}}
              - {addresses: [10.0.0.2]}
              - {addresses: [10.0.0.3], conditions: {ready: false, serving: true, terminating: true}}
              - {addresses: [10.0.0.4], conditions: {ready: false}}
            ports: [{name: http, port: 8080}]
            """
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: "east.yaml")
        precondition(problems.isEmpty, "\(problems)")
        return set.localServices(cluster: east)[0]
    }

    @Test("a global shared service exports its ready or serving, healthy backends only")
    func exportsHealthyServingBackends() throws {
        let down = SocketEndpoint("10.0.0.2:8080")!
        let entry = try #require(ClusterService.export(Self.service(global: true, shared: true), cluster: Self.east, clusterID: Self.eastID) { $0 != down })
        #expect(entry.backends.keys.sorted() == ["10.0.0.1", "10.0.0.3"], "10.0.0.2 is down, 10.0.0.4 is in maintenance")
        #expect(entry.backends["10.0.0.1"]?["http"] == .init(port: 8080))
        #expect(entry.frontends["10.96.0.10"]?["http"] == .init(port: 80))
        #expect(entry.hostnames?["10.0.0.1"] == "a")
        #expect(entry.zones == ["10.0.0.1": .init(zone: "z1", forZones: [.init(name: "z1"), .init(name: "z2")])], "zone and hints.forZones as Cilium 1.19 exports them")
        #expect(entry.cluster == "east" && entry.clusterID == 1 && entry.includeExternal && entry.shared)
        #expect(KVStoreKeys.service(cluster: Self.east, name: ServiceName(namespace: entry.namespace, name: entry.name)) == "cilium/state/services/v1/east/default/echo")
    }

    @Test("services that are not global, or not shared, export nothing", arguments: [(false, true), (true, false), (false, false)])
    func notExported(_ global: Bool, _ shared: Bool) {
        #expect(ClusterService.export(Self.service(global: global, shared: shared), cluster: Self.east, clusterID: Self.eastID) { _ in true } == nil)
    }

    @Test("keys: the prefix has a trailing slash so that east does not match east2")
    func keys() throws {
        let prefix = KVStoreKeys.servicesPrefix(cluster: Self.east)
        #expect(prefix == "cilium/state/services/v1/east/")
        #expect(!"cilium/state/services/v1/east2/default/echo".hasPrefix(prefix))
        #expect(KVStoreKeys.clusterConfig(cluster: Self.east) == "cilium/cluster-config/east")
        #expect(KVStoreKeys.syncedCanary(cluster: Self.east) == "cilium/synced/east/cilium/state/services/v1")
        let parsed = try #require(KVStoreKeys.parseService("cilium/state/services/v1/east/shop/cart"))
        #expect(parsed.cluster == "east" && parsed.name == ServiceName(namespace: "shop", name: "cart"))
        #expect(KVStoreKeys.parseService("cilium/state/services/v1/east/shop") == nil)
        #expect(KVStoreKeys.parseService("cilium/state/services/v1/east/shop/cart/x") == nil)
    }
}

/// UDP ports in Cilium's format: exported with `"Protocol":"UDP"`, as Cilium writes an
/// `L4Addr` of a UDP Service port.
struct UDPExportTests {
    @Test("a UDP port and a TCP port of the same number are both exported, each with its protocol")
    func udpAndTCP() throws {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: dns, annotations: {service.cilium.io/global: "true"}}
            spec: {clusterIP: 10.96.0.53, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: dns-1, labels: {kubernetes.io/service-name: dns}}
            addressType: IPv4
            endpoints: [{addresses: [10.0.0.1]}]
            ports: [{name: dns, port: 5353, protocol: UDP}, {name: dns-tcp, port: 5353, protocol: TCP}]
            """
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: "dns.yaml")
        #expect(problems.isEmpty, "\(problems)")
        let service = try #require(set.localServices(cluster: ExportTests.east).first)
        #expect(service.ports.map(\.frontend.description) == ["10.96.0.53:53/UDP", "10.96.0.53:53"], "two frontends: the protocol is part of one")
        let entry = try #require(ClusterService.export(service, cluster: ExportTests.east, clusterID: ExportTests.eastID) { _ in true })
        #expect(entry.backends["10.0.0.1"]?["dns"] == .init(proto: "UDP", port: 5353))
        #expect(entry.backends["10.0.0.1"]?["dns-tcp"] == .init(proto: "TCP", port: 5353))
        #expect(entry.frontends["10.96.0.53"]?["dns"] == .init(proto: "UDP", port: 53))
        let json = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        #expect(json.contains(#""dns":{"Protocol":"UDP","Port":5353}"#) || json.contains(#""dns":{"Port":5353,"Protocol":"UDP"}"#), "\(json)")
        let back = try ClusterService.decodeValidated(Array(json.utf8), key: "cilium/state/services/v1/east/default/dns", cluster: ExportTests.east, clusterID: ExportTests.eastID)
        #expect(back.transports == ["dns": .udp, "dns-tcp": .tcp])
    }
}
