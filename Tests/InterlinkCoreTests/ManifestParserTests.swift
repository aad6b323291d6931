import InterlinkCore
import Testing

struct ManifestParserTests {
    static let service = """
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namespace: shop
          annotations:
            service.cilium.io/global: "true"
            service.cilium.io/affinity: Local
            service.cilium.io/lb-algorithm: maglev
            interlink.io/health-check: http
            interlink.io/health-check-path: /ready
            interlink.io/health-check-interval: 500ms
            interlink.io/health-check-rise: "4"
        spec:
          clusterIP: 10.96.0.10
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 300}}
          ports:
            - {name: http, port: 80, targetPort: web}
            - {name: admin, port: 9090, targetPort: 9090}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-abc
          namespace: shop
          labels: {kubernetes.io/service-name: echo}
        addressType: IPv4
        endpoints:
          - addresses: [10.0.0.1]
            zone: a
            hints: {forZones: [{name: a}, {name: b}]}
          - addresses: [10.0.0.2]
            conditions: {ready: false, serving: true, terminating: true}
          - addresses: [10.0.0.3]
            conditions: {ready: false}
        ports:
          - {name: web, port: 8080}
          - {name: admin, port: 9091}
        """

    static func parse(_ yaml: String) -> (ManifestSet, [ManifestProblem]) {
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: "east/echo.yaml")
        return (set, problems + set.crossDocumentProblems())
    }

    @Test("a full Service and EndpointSlice parse into the model")
    func fullExample() throws {
        let (set, problems) = Self.parse(Self.service)
        #expect(problems.isEmpty, "\(problems)")
        let services = set.localServices(cluster: try ClusterName("east"))
        let echo = try #require(services.first)
        #expect(echo.spec.name == ServiceName(namespace: "shop", name: "echo"))
        #expect(echo.spec.isGlobal && echo.spec.isShared)
        #expect(echo.spec.affinity == .local)
        #expect(echo.spec.algorithm == .maglev)
        #expect(echo.spec.sessionAffinity == .clientIP(timeout: .seconds(300)))
        #expect(echo.spec.healthCheck == HealthCheckSpec(kind: .http(path: "/ready"), interval: .milliseconds(500), timeout: .seconds(1), rise: 4, fall: 3))
        #expect(echo.ports.map(\.frontend.description) == ["10.96.0.10:80", "10.96.0.10:9090"])
        // targetPort by name → slice port "web"; the admin port matches the slice port of the same name.
        #expect(echo.ports[0].backends.map(\.endpoint.description) == ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"])
        #expect(echo.ports[1].backends.map(\.endpoint.port) == [9091, 9091, 9091])
        #expect(echo.ports[0].backends.map(\.state) == [.active, .terminating, .maintenance])
        #expect(echo.ports[0].backends[0].zone == "a")
        #expect(echo.ports[0].backends[0].forZones == ["a", "b"], "hints.forZones are kept")
    }

    @Test("defaults: namespace default, targetPort = port, health check tcp 2s/1s/2/3, affinity none, random")
    func defaults() throws {
        let (set, problems) = Self.parse("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}
            """)
        #expect(problems.isEmpty)
        let spec = try #require(set.services.first?.value)
        #expect(spec.name.namespace == "default")
        #expect(spec.ports == [ServicePort(name: "", port: 80, targetPort: .number(80))])
        #expect(spec.healthCheck == HealthCheckSpec(kind: .tcp, interval: .seconds(2), timeout: .seconds(1), rise: 2, fall: 3))
        #expect(!spec.isGlobal && spec.affinity == .none && spec.algorithm == .random && spec.sessionAffinity == .none)
    }

    @Test("affinity none, empty and absent mean the same (Cilium #46623)", arguments: ["none", "None", "", " none "])
    func affinityNoneNormalised(_ value: String) {
        var problems: [String] = []
        let parsed = ServiceAnnotations.parse([ServiceAnnotations.global: "true", ServiceAnnotations.affinity: value]) { problems.append("\($0) \($1) \($2)") }
        #expect(problems.isEmpty)
        #expect(parsed?.affinity == ServiceAffinity.none)
    }

    @Test("legacy annotation names are aliases")
    func legacyAliases() {
        let parsed = ServiceAnnotations.parse([
            ServiceAnnotations.globalLegacy: "TRUE", ServiceAnnotations.sharedLegacy: "false", ServiceAnnotations.affinityLegacy: "remote",
        ]) { _, _, _ in }
        #expect(parsed?.isGlobal == true && parsed?.isShared == false && parsed?.affinity == .remote)
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var expected: String
        var testDescription: String { name }
    }

    static func serviceWith(spec: String = "clusterIP: 10.96.0.1\n  ports: [{name: http, port: 80}]", annotations: String = "{}") -> String {
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\n  annotations: \(annotations)\nspec:\n  \(spec)\n"
    }

    static func sliceWith(_ body: String, labels: String = "{kubernetes.io/service-name: echo}") -> String {
        serviceWith() + "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: echo-1\n  labels: \(labels)\n\(body)\n"
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "port out of range", yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{name: http, port: 70000}]"),
                 expected: "east/echo.yaml: document 1: spec.ports[0].port: 70000 is not a port number (1-65535)"),
        BadInput(name: "port not a number", yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{name: http, port: eighty}]"),
                 expected: "document 1: spec.ports[0].port: eighty is not a port number (1-65535)"),
        BadInput(name: "missing required field", yaml: serviceWith(spec: "ports: [{name: http, port: 80}]"),
                 expected: "document 1: spec.clusterIP: is missing"),
        BadInput(name: "bad clusterIP", yaml: serviceWith(spec: "clusterIP: 10.96.0.300\n  ports: [{port: 80}]"),
                 expected: "spec.clusterIP: 10.96.0.300 is not an IP address"),
        BadInput(name: "bad frontend annotation", yaml: serviceWith(spec: "ports: [{port: 80}]", annotations: "{interlink.io/frontend: \"127.0.0.300\"}"),
                 expected: "metadata.annotations[\"interlink.io/frontend\"]: 127.0.0.300 is not an IP address"),
        BadInput(name: "unknown Service type", yaml: serviceWith(spec: "type: Ingress\n  clusterIP: 10.96.0.1\n  ports: [{port: 80}]"),
                 expected: "spec.type: Ingress is not a Service type: expected ClusterIP, NodePort, LoadBalancer or ExternalName"),
        BadInput(name: "unknown protocol", yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{port: 53, protocol: QUIC}]"),
                 expected: "spec.ports[0].protocol: QUIC is not a protocol: expected TCP, UDP or SCTP"),
        BadInput(name: "a TCP check asked for a UDP port without a port to check",
                 yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{port: 53, protocol: UDP}]", annotations: "{interlink.io/health-check: tcp}"),
                 expected: "metadata.annotations[\"interlink.io/health-check\"]: tcp cannot check a UDP port by itself: add interlink.io/health-check-port"),
        BadInput(name: "health-check-port out of range",
                 yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{port: 53, protocol: UDP}]", annotations: "{interlink.io/health-check-port: \"70000\"}"),
                 expected: "interlink.io/health-check-port\"]: 70000 is not valid: expected a port number from 1 to 65535"),
        BadInput(name: "udp-flow-timeout of zero",
                 yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{port: 53, protocol: UDP}]", annotations: "{interlink.io/udp-flow-timeout: 0s}"),
                 expected: "interlink.io/udp-flow-timeout\"]: 0s is not valid: expected a duration above 0 and at most 1h"),
        BadInput(name: "unnamed port among several", yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{port: 80}, {name: b, port: 81}]"),
                 expected: "spec.ports[0].name: is missing: every port needs a name"),
        BadInput(name: "bad sessionAffinity", yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  sessionAffinity: Sticky\n  ports: [{port: 80}]"),
                 expected: "spec.sessionAffinity: Sticky is not valid: expected None or ClientIP"),
        BadInput(name: "session timeout out of range",
                 yaml: serviceWith(spec: "clusterIP: 10.96.0.1\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n  ports: [{port: 80}]"),
                 expected: "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not a timeout in seconds (1-86400)"),
        BadInput(name: "ServiceExport of another API group", yaml: "apiVersion: net.gke.io/v1\nkind: ServiceExport\nmetadata: {name: x}\n",
                 expected: "document 1: apiVersion: net.gke.io/v1 is not supported for ServiceExport: expected multicluster.x-k8s.io/v1alpha1 or multicluster.x-k8s.io/v1beta1"),
        BadInput(name: "ServiceExport with a bad creation time", yaml: "apiVersion: multicluster.x-k8s.io/v1alpha1\nkind: ServiceExport\nmetadata: {name: x, creationTimestamp: yesterday}\n",
                 expected: "metadata.creationTimestamp: yesterday is not a time: expected RFC 3339"),
        BadInput(name: "List items not a list", yaml: "apiVersion: v1\nkind: List\nitems: {a: b}\n",
                 expected: "document 1: items: a mapping is not a list"),
        BadInput(name: "a List item with a bad port", yaml: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n  spec: {clusterIP: 10.96.0.1, ports: [{port: 0}]}\n",
                 expected: "document 1: items[0].spec.ports[0].port: 0 is not a port number (1-65535)"),
        BadInput(name: "wrong apiVersion", yaml: "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: x}\n",
                 expected: "apiVersion: discovery.k8s.io/v1beta1 is not supported for EndpointSlice: expected discovery.k8s.io/v1"),
        BadInput(name: "not YAML", yaml: "apiVersion: v1\nkind: [Service\n", expected: "east/echo.yaml: document 1: not valid YAML"),
        BadInput(name: "document is not a mapping", yaml: "- a\n- b\n", expected: "document 1: a list is not a mapping"),
        BadInput(name: "bad name", yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: Echo_1}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 1}]}\n",
                 expected: "metadata.name: Echo_1 is not a valid name"),
        BadInput(name: "bad global annotation", yaml: serviceWith(annotations: "{service.cilium.io/global: \"yes\"}"),
                 expected: "metadata.annotations[\"service.cilium.io/global\"]: yes is not valid: expected \"true\" or \"false\""),
        BadInput(name: "bad affinity annotation", yaml: serviceWith(annotations: "{service.cilium.io/affinity: nearest}"),
                 expected: "metadata.annotations[\"service.cilium.io/affinity\"]: nearest is not valid: expected local, remote or none"),
        BadInput(name: "bad lb-algorithm", yaml: serviceWith(annotations: "{service.cilium.io/lb-algorithm: roundrobin}"),
                 expected: "roundrobin is not valid: expected random or maglev"),
        BadInput(name: "conflicting legacy alias", yaml: serviceWith(annotations: "{service.cilium.io/global: \"true\", io.cilium/global-service: \"false\"}"),
                 expected: "conflicts with io.cilium/global-service"),
        BadInput(name: "bad health-check kind", yaml: serviceWith(annotations: "{interlink.io/health-check: icmp}"),
                 expected: "interlink.io/health-check\"]: icmp is not valid: expected tcp, http or none"),
        BadInput(name: "bad health-check interval", yaml: serviceWith(annotations: "{interlink.io/health-check-interval: soon}"),
                 expected: "interlink.io/health-check-interval\"]: soon is not valid: expected a duration"),
        BadInput(name: "bad health-check fall", yaml: serviceWith(annotations: "{interlink.io/health-check-fall: \"0\"}"),
                 expected: "interlink.io/health-check-fall\"]: 0 is not valid: expected a whole number from 1 to 100"),
        BadInput(name: "health-check path without http", yaml: serviceWith(annotations: "{interlink.io/health-check-path: /x}"),
                 expected: "is set but interlink.io/health-check is not http"),
        BadInput(name: "slice of unknown service", yaml: sliceWith("addressType: IPv4\nendpoints: []", labels: "{kubernetes.io/service-name: other}"),
                 expected: "other names no Service in namespace default"),
        BadInput(name: "bad addressType", yaml: sliceWith("addressType: IPv5"), expected: "addressType: IPv5 is not valid: expected IPv4 or IPv6"),
        BadInput(name: "address of the wrong family", yaml: sliceWith("addressType: IPv4\nendpoints: [{addresses: [\"::1\"]}]\nports: [{name: http, port: 80}]"),
                 expected: "endpoints[0].addresses[0]: ::1 is an IPv6 address but addressType is IPv4"),
        BadInput(name: "bad endpoint address", yaml: sliceWith("addressType: IPv4\nendpoints: [{addresses: [10.0.0]}]\nports: [{name: http, port: 80}]"),
                 expected: "endpoints[0].addresses[0]: 10.0.0 is not an IP address"),
        BadInput(name: "bad condition", yaml: sliceWith("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: maybe}}]\nports: [{name: http, port: 80}]"),
                 expected: "endpoints[0].conditions.ready: maybe is not a boolean"),
        BadInput(name: "slice port that matches no service port", yaml: sliceWith("addressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]\nports: [{name: web, port: 80}]"),
                 expected: "no port named 'http'"),
        BadInput(name: "duplicate service", yaml: serviceWith() + "---\n" + serviceWith(), expected: "document 2: metadata.name: Service default/echo is already defined in east/echo.yaml document 1"),
    ]

    @Test("bad input is reported with file, document, field, value and what is allowed", arguments: badInputs)
    func badInput(_ input: BadInput) {
        let (_, problems) = Self.parse(input.yaml)
        #expect(problems.contains { $0.description.contains(input.expected) }, "got: \(problems.map(\.description))")
    }

    @Test("all problems of a file are reported, not only the first")
    func allProblemsReported() {
        let yaml = Self.serviceWith(spec: "clusterIP: nope\n  ports: [{name: a, port: 0}, {name: b, port: 1, protocol: SCTP}]",
                                    annotations: "{service.cilium.io/affinity: x}") + "---\nkind: Pod\n"
        let (set, problems) = Self.parse(yaml)
        #expect(problems.count == 4, "\(problems.map(\.description))")
        #expect(set.services.isEmpty, "nothing of an invalid document is accepted")
        #expect(problems.filter { $0.document == 2 }.count == 1)
    }

    @Test("problems carry the line number where known")
    func lineNumbers() {
        let (_, problems) = Self.parse(Self.serviceWith(spec: "clusterIP: 10.96.0.1\n  ports: [{name: http, port: 70000}]"))
        #expect(problems.first?.line == 8, "the ports line")
    }
}

struct ManifestSetEditTests {
    static func set(_ yaml: String, file: String) -> ManifestSet {
        let (set, problems) = ManifestParser.parse(yaml: yaml, file: file)
        #expect(problems.isEmpty, "\(problems)")
        return set
    }

    static let base = """
        apiVersion: v1
        kind: Service
        metadata: {name: a}
        spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: a-1, labels: {kubernetes.io/service-name: a}}
        addressType: IPv4
        endpoints: [{addresses: [10.1.0.1]}]
        """

    @Test("apply replaces objects of the same name and adds new ones; delete removes a service with its slices")
    func applyAndDelete() throws {
        let base = Self.set(Self.base, file: "base.yaml")
        let update = Self.set(Self.base.replacingOccurrences(of: "10.1.0.1", with: "10.1.0.9") + """

            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b}
            spec: {clusterIP: 10.0.0.2, ports: [{port: 80}]}
            """, file: "update.yaml")
        let merged = base.applying(update)
        #expect(merged.crossDocumentProblems().isEmpty, "no duplicate: a was replaced, not added twice")
        let cluster = try ClusterName("east")
        let services = merged.localServices(cluster: cluster)
        #expect(services.map(\.spec.name.name) == ["a", "b"])
        #expect(services[0].ports[0].backends.map(\.endpoint.description) == ["10.1.0.9:80"])
        let without = merged.removingService(ServiceName(namespace: "default", name: "a"))
        #expect(without.localServices(cluster: cluster).map(\.spec.name.name) == ["b"])
        #expect(without.crossDocumentProblems().isEmpty, "its slices went with it")
    }
}
