import FuzzSupport
import InterlinkCore

/// Manifests as `interlink validate`, the agent and `POST /v1/manifests` read them, then what
/// the agent builds from them: local services and each port's Maglev table.
@_cdecl("FuzzManifest_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let (set, problems) = ManifestParser.parse(yaml: text, file: "fuzz.yaml", options: ManifestOptions(defaultFrontend: IPAddress("127.0.0.1")))
    let all = problems + set.crossDocumentProblems()
    _ = ManifestErrors(all).description
    _ = set.readingReport()
    guard all.isEmpty, let cluster = try? ClusterName("fuzz") else { return }
    let stamped = set.stampingExports(previous: ManifestSet(), now: "2026-12-06T00:00:00Z")
    for service in stamped.localServices(cluster: cluster) {
        for port in service.ports {
            _ = MaglevTable(backends: port.backends.map(\.endpoint))
        }
        _ = try? service.spec.annotated(["service.cilium.io/affinity": "local"])
        let created = service.spec.export?.creationTimestamp ?? ""
        _ = ServiceImportView.resolve([ClusterSetExport(exporting: service.spec, cluster: cluster, createdAt: RFC3339Time.milliseconds(created) ?? 0, createdText: created)])
    }
    let texts = ManifestParser.ObjectTexts(yaml: text)
    for located in set.services { _ = texts.text(document: located.document, item: located.item) }
}
