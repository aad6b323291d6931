import InterlinkCore
import Testing

struct ManifestLimitTests {
    static func slice(endpoints: Int, addressesEach: Int = 1, ports: Int = 1) -> String {
        let addresses = (0..<addressesEach).map { "127.0.\($0 / 250).\($0 % 250 + 1)" }.joined(separator: ", ")
        let endpointLines = (0..<endpoints).map { _ in "  - addresses: [\(addresses)]" }.joined(separator: "\n")
        let portLines = (0..<ports).map { "  - {name: p\($0), port: \(9000 + $0)}" }.joined(separator: "\n")
        return """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: big, labels: {kubernetes.io/service-name: echo}}
            addressType: IPv4
            endpoints:
            \(endpointLines)
            ports:
            \(portLines)
            """
    }

    @Test("an EndpointSlice keeps Kubernetes' limits: 1000 endpoints, 100 addresses each, 100 ports")
    func sliceLimits() {
        #expect(ManifestParser.parse(yaml: Self.slice(endpoints: 1000), file: "f.yaml").1.isEmpty)
        for (yaml, field) in [
            (Self.slice(endpoints: 1001), "endpoints"), (Self.slice(endpoints: 1, addressesEach: 101), "endpoints[0].addresses"),
            (Self.slice(endpoints: 1, ports: 101), "ports"),
        ] {
            let problems = ManifestParser.parse(yaml: yaml, file: "f.yaml").1
            #expect(problems.contains { $0.field == field && $0.message.contains("at most") }, "\(problems.prefix(3))")
        }
    }

    /// A few hundred bytes whose aliases expand to 10^9 nodes.
    static let aliasBomb = """
        a: &a ["x","x","x","x","x","x","x","x","x","x"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
        kind: EndpointSlice
        """

    @Test("a document of nested aliases is refused with one problem, before it is walked")
    func aliasBombRefused() {
        let problems = ManifestParser.parse(yaml: Self.aliasBomb, file: "bomb.yaml").1
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("more than \(ManifestParser.maximumNodesPerDocument + Self.aliasBomb.utf8.count) YAML nodes") == true, "\(problems)")
    }

    @Test("an error lists the first 50 problems, then how many more")
    func errorsAreCapped() {
        let problems = (0..<1234).map { ManifestProblem(file: "f.yaml", document: 1, field: "x[\($0)]", message: "bad") }
        let lines = ManifestErrors(problems).description.split(separator: "\n")
        #expect(lines.count == 1 + ManifestErrors.shownProblems + 1)
        #expect(lines.first == "1234 problems in the manifests:")
        #expect(lines.last == "  … and 1184 more")
    }

    @Test("a health-check timeout past one year is a problem naming the field, not a crash")
    func hugeDurationIsAProblem() {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: echo, annotations: {interlink.io/health-check-timeout: 99999999999s}}
            spec: {clusterIP: 127.0.0.10, ports: [{port: 80}]}
            """
        let problems = ManifestParser.parse(yaml: yaml, file: "f.yaml").1
        #expect(problems.count == 1)
        #expect(problems.first?.field.contains("interlink.io/health-check-timeout") == true, "\(problems)")
    }
}
