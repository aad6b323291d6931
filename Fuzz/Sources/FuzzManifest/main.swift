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
    let (set, problems) = ManifestParser.parse(yaml: text, file: "fuzz.yaml")
    let all = problems + set.crossDocumentProblems()
    _ = ManifestErrors(all).description
    guard all.isEmpty, let cluster = try? ClusterName("fuzz") else { return }
    for service in set.localServices(cluster: cluster) {
        for port in service.ports {
            _ = MaglevTable(backends: port.backends.map(\.endpoint))
        }
        _ = try? service.spec.annotated(["service.cilium.io/affinity": "local"])
    }
    _ = ManifestParser.documentTexts(yaml: text)
}
