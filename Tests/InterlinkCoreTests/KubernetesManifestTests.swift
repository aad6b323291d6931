import Foundation
import InterlinkCore
import Testing

/// kubectl's output as it is (lists, every field the API server adds, JSON), mixed manifests,
/// Services without a clusterIP, and the MCS-API ServiceExport.
struct KubernetesManifestTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/kubernetes")

    static func read(_ relative: String) throws -> String {
        try String(contentsOf: examples.appendingPathComponent(relative), encoding: .utf8)
    }

    static func parse(_ yaml: String, options: ManifestOptions = ManifestOptions()) -> (ManifestSet, [ManifestProblem]) {
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: "k.yaml", options: options)
        return (set, problems + set.crossDocumentProblems())
    }

    static let cluster = try! ClusterName("east")

    @Test("kubectl's v1 List with every field the API server adds: services, slices and endpoints as Kubernetes has them")
    func kubectlList() throws {
        let (set, problems) = Self.parse(try Self.read("kubectl/kubectl-list.yaml"))
        #expect(problems.isEmpty, "\(problems)")
        let services = set.localServices(cluster: Self.cluster)
        #expect(services.map { "\($0.spec.name)" } == ["shop/cart", "shop/checkout"])
        let checkout = try #require(services.first { $0.spec.name.name == "checkout" })
        #expect(checkout.spec.isGlobal && checkout.spec.affinity == .local)
        #expect(checkout.ports.map(\.frontend.description) == ["127.0.160.10:8080"])
        // Two slices merged; the terminating-but-serving endpoint kept as terminating; zones kept.
        let backends = checkout.ports[0].backends
        #expect(backends.map(\.endpoint.description) == ["127.0.160.11:9080", "127.0.160.12:9080", "127.0.160.13:9080"])
        #expect(backends.map(\.state) == [.active, .terminating, .active])
        #expect(backends.map(\.zone) == ["zone-a", "zone-b", "zone-c"])
        #expect(backends[0].forZones == ["zone-a"])
        // A dual-stack LoadBalancer Service: IPv4 and IPv6 slices merged, ClientIP affinity, and a note.
        let cart = try #require(services.first { $0.spec.name.name == "cart" })
        #expect(cart.ports[0].backends.map(\.endpoint.description) == ["127.0.160.22:9081", "[::1]:9081"])
        #expect(cart.spec.sessionAffinity == .clientIP(timeout: .seconds(600)))
        #expect(set.notes.map(\.description) == [
            "k.yaml: document 1: items[1].spec.type: Service shop/cart is served as type ClusterIP: Interlink listens on its frontend address only, not on node ports or a cloud load balancer's addresses",
        ])
        // Headless and ExternalName Services, and the FQDN slice, skipped with the reason.
        #expect(set.skipped.map { "\($0.kind) \($0.name)" } == ["Service shop/checkout-pods", "Service shop/payments-gateway", "EndpointSlice shop/payments-gateway-fqdn"])
        let report = set.readingReport()
        #expect(report.contains { $0.contains("items[2]: skipped Service shop/checkout-pods: clusterIP None (a headless Service) has no L4 frontend") })
        #expect(report.contains { $0.contains("skipped Service shop/payments-gateway: type ExternalName") })
        #expect(report.contains { $0.contains("skipped EndpointSlice shop/payments-gateway-fqdn: addressType FQDN") })
    }

    @Test("typed lists in JSON (ServiceList, EndpointSliceList), as kubectl get -o json prints them")
    func typedListsInJSON() throws {
        let (set, problems) = Self.parse(try Self.read("kubectl/services.json") + "\n---\n" + Self.read("kubectl/endpointslices.json"))
        #expect(problems.isEmpty, "\(problems)")
        let service = try #require(set.localServices(cluster: Self.cluster).first)
        #expect(service.ports.map { "\($0.port.name) \($0.frontend) \($0.backends.map(\.endpoint.description))" } == [
            "grpc 127.0.162.10:7070 [\"127.0.162.11:7071\", \"127.0.162.12:7071\"]",
            "metrics 127.0.162.10:9102 [\"127.0.162.11:9102\", \"127.0.162.12:9102\"]",
        ])
        #expect(set.skipped.isEmpty && set.notes.isEmpty)
    }

    @Test("Cilium's global-service example: the Service is read, the Deployment and ConfigMap skipped in one line; the frontend comes from the option")
    func ciliumExample() throws {
        let yaml = try Self.read("cilium-global-service/cluster1.yaml") + "\n---\n" + Self.read("cilium-global-service/endpoints.yaml")
        let (_, withoutFrontend) = Self.parse(yaml)
        #expect(withoutFrontend.map(\.description) == [
            "k.yaml: document 1: spec.clusterIP: is missing, so Service default/rebel-base has no frontend address: add the annotation interlink.io/frontend: ADDR to the Service, or start the agent with --default-frontend ADDR (validate and apply take it too)",
        ], "one problem, naming both fixes; the slice of that Service is not reported again")

        let (set, problems) = Self.parse(yaml, options: ManifestOptions(defaultFrontend: IPAddress("127.0.161.10")))
        #expect(problems.isEmpty, "\(problems)")
        let service = try #require(set.localServices(cluster: Self.cluster).first)
        #expect(service.spec.isGlobal)
        #expect(service.ports.map(\.frontend.description) == ["127.0.161.10:80"])
        #expect(service.ports[0].backends.count == 2)
        #expect(set.readingReport() == [
            "k.yaml: skipped 2 objects: Deployment rebel-base, ConfigMap rebel-base-response (Interlink reads Service, EndpointSlice and ServiceExport)",
        ])

        let (_, strict) = Self.parse(yaml, options: ManifestOptions(defaultFrontend: IPAddress("127.0.161.10"), strict: true))
        #expect(strict.map(\.description) == [
            "k.yaml: document 2: kind: Deployment rebel-base is not read by Interlink (Interlink reads Service, EndpointSlice and ServiceExport): remove it, or run without --strict to skip it (line 22)",
            "k.yaml: document 3: kind: ConfigMap rebel-base-response is not read by Interlink (Interlink reads Service, EndpointSlice and ServiceExport): remove it, or run without --strict to skip it (line 59)",
        ])
    }

    @Test("interlink.io/frontend wins over clusterIP and serves a headless Service")
    func frontendAnnotation() throws {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: db, annotations: {interlink.io/frontend: 127.0.163.10}}
            spec: {clusterIP: None, ports: [{port: 5432}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, annotations: {interlink.io/frontend: "127.0.163.20"}}
            spec: {clusterIP: 10.96.7.7, ports: [{port: 80}]}
            """
        let (set, problems) = Self.parse(yaml, options: ManifestOptions(defaultFrontend: IPAddress("127.0.163.99")))
        #expect(problems.isEmpty, "\(problems)")
        #expect(set.localServices(cluster: Self.cluster).flatMap { $0.ports.map(\.frontend.description) } == ["127.0.163.10:5432", "127.0.163.20:80"])
    }

    static let exported = """
        apiVersion: v1
        kind: Service
        metadata: {name: api, namespace: shop}
        spec: {clusterIP: 127.0.164.10, ports: [{name: http, port: 80}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1beta1
        kind: ServiceExport
        metadata: {name: api, namespace: shop, creationTimestamp: "2026-11-30T09:00:00Z"}
        spec: {exportedLabels: {team: shop}}
        status:
          conditions:
          - {type: Valid, status: "True", reason: Exported, lastTransitionTime: "2026-11-30T09:00:01Z"}
        """

    @Test("a ServiceExport (v1alpha1 or v1beta1) makes its Service global and shared without the annotation")
    func serviceExport() throws {
        for version in ["v1alpha1", "v1beta1"] {
            let (set, problems) = Self.parse(Self.exported.replacingOccurrences(of: "v1beta1", with: version))
            #expect(problems.isEmpty, "\(problems)")
            let spec = try #require(set.localServices(cluster: Self.cluster).first?.spec)
            #expect(spec.isGlobal && spec.isShared, "\(version)")
            #expect(spec.export == ServiceExportSpec(
                name: ServiceName(namespace: "shop", name: "api"), creationTimestamp: "2026-11-30T09:00:00Z", exportedLabels: ["team": "shop"]))
        }
        // The annotation saying the same is no conflict.
        let agreeing = Self.exported.replacingOccurrences(of: "namespace: shop}\nspec: {clusterIP", with: "namespace: shop, annotations: {service.cilium.io/global: \"true\"}}\nspec: {clusterIP")
        #expect(Self.parse(agreeing).1.isEmpty)
    }

    @Test("a ServiceExport and an annotation that disagree: the error names both", arguments: [
        ("service.cilium.io/global", "global"), ("service.cilium.io/shared", "shared"), ("io.cilium/global-service", "global"),
    ])
    func exportConflict(annotation: String, meaning: String) throws {
        let yaml = Self.exported.replacingOccurrences(
            of: "namespace: shop}\nspec: {clusterIP", with: "namespace: shop, annotations: {\(annotation): \"false\"}}\nspec: {clusterIP")
        let (_, problems) = Self.parse(yaml)
        #expect(problems.map(\.description) == [
            "k.yaml: document 2: metadata.name: ServiceExport shop/api exports the Service, but the Service's annotation \(annotation): \"false\" says it is not \(meaning): remove the annotation or the ServiceExport",
        ])
    }

    @Test("an export whose Service is missing or skipped is noted, not an error")
    func exportWithoutService() {
        let yaml = """
            apiVersion: multicluster.x-k8s.io/v1alpha1
            kind: ServiceExport
            metadata: {name: ghost}
            """
        let (set, problems) = Self.parse(yaml)
        #expect(problems.isEmpty)
        #expect(set.readingReport() == ["k.yaml: document 1: ServiceExport default/ghost: no Service default/ghost in the manifests, so nothing is exported until one is added"])
    }

    @Test("annotate keeps an exported Service global, and refuses to contradict the export or move the frontend")
    func annotateExported() throws {
        let (set, _) = Self.parse(Self.exported)
        let spec = try #require(set.localServices(cluster: Self.cluster).first?.spec)
        let changed = try spec.annotated(["service.cilium.io/affinity": "local"])
        #expect(changed.isGlobal && changed.isShared && changed.affinity == .local)
        #expect(throws: AnnotationErrors.self) { try spec.annotated(["service.cilium.io/global": "false"]) }
        #expect(throws: AnnotationErrors.self) { try spec.annotated(["interlink.io/frontend": "127.0.164.99"]) }
    }

    @Test("an object of a List keeps its own text, for saving one object apart from its file")
    func objectTexts() throws {
        let yaml = try Self.read("kubectl/kubectl-list.yaml")
        let (set, _) = Self.parse(yaml)
        let cart = try #require(set.services.first { $0.value.name.name == "cart" })
        let text = try #require(ManifestParser.ObjectTexts(yaml: yaml).text(document: cart.document, item: cart.item))
        let (reparsed, problems) = Self.parse(text)
        #expect(problems.isEmpty)
        #expect(reparsed.services.map(\.value) == [cart.value])
    }

    @Test("SCTP ports are left out with a note, a Service of SCTP only is skipped, --strict refuses them; a slice of no Service is skipped")
    func sctpAndUnlabelledSlices() throws {
        let mixed = """
            apiVersion: v1
            kind: Service
            metadata: {name: sig}
            spec: {clusterIP: 127.0.165.10, ports: [{name: http, port: 80}, {name: sig, port: 3868, protocol: SCTP}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: sig-1, labels: {kubernetes.io/service-name: sig}}
            addressType: IPv4
            endpoints: [{addresses: [127.0.165.11]}]
            ports: [{name: http, port: 8080}, {name: sig, port: 3868, protocol: SCTP}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: only-sctp}
            spec: {clusterIP: 127.0.165.20, ports: [{port: 3868, protocol: SCTP}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: mirrored}
            addressType: IPv4
            endpoints: [{addresses: [127.0.165.31]}]
            """
        let (set, problems) = Self.parse(mixed)
        #expect(problems.isEmpty, "\(problems)")
        let services = set.localServices(cluster: Self.cluster)
        #expect(services.flatMap { $0.ports.map { "\($0.frontend) \($0.backends.map(\.endpoint.description))" } } == ["127.0.165.10:80 [\"127.0.165.11:8080\"]"])
        #expect(set.readingReport() == [
            "k.yaml: document 3: skipped Service default/only-sctp: its only ports (port 3868) are SCTP, which Interlink does not proxy",
            "k.yaml: document 4: skipped EndpointSlice mirrored: it has no label kubernetes.io/service-name, so it belongs to no Service; label it with the Service's name to use it",
            "k.yaml: document 1: spec.ports: Service default/sig: port sig not served: SCTP is not proxied; its TCP and UDP ports are",
        ])
        let (_, strict) = Self.parse(mixed, options: ManifestOptions(strict: true))
        #expect(strict.contains { $0.description.contains("document 1: spec.ports: port sig: SCTP is not served (Interlink proxies TCP and UDP); remove the port, or run without --strict") }, "\(strict)")
    }

    @Test("RFC 3339 times as Kubernetes writes them", arguments: [
        ("2026-11-30T09:00:00Z", true), ("2026-11-30T09:00:00.123456Z", true), ("2026-11-30T09:00:00+01:00", true),
        ("2026-11-30 09:00:00Z", false), ("2026-11-30T09:00:00", false), ("2026-11-30T09:00:00.Z", false), ("yesterday", false),
    ])
    func rfc3339(text: String, valid: Bool) {
        let yaml = "apiVersion: multicluster.x-k8s.io/v1alpha1\nkind: ServiceExport\nmetadata: {name: x, creationTimestamp: \"\(text)\"}\n"
        #expect(Self.parse(yaml).1.isEmpty == valid)
    }
}
