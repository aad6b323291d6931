import FuzzSupport
import InterlinkCore
import InterlinkMesh

/// A remote cluster's `ClusterService` entry and MCS-API `MCSAPIServiceSpec` entry, as a
/// watcher reads them from the remote store: decoded, validated and cached, over a valid entry
/// of the same key; the export then resolved against a local one.
@_cdecl("FuzzClusterService_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    let value = Array(bytes)
    guard let west = try? ClusterName("west"), let id = try? ClusterID(2) else { return }
    let key = "cilium/state/services/v1/west/default/echo"
    var cache = RemoteServiceCache(cluster: west, clusterID: id)
    cache.put(key: key, value: Array(#"{"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,"backends":{"127.0.0.2":{"http":{"Protocol":"TCP","Port":80}}}}"#.utf8))
    cache.put(key: key, value: value)
    let exportKey = "cilium/state/serviceexports/v1/west/default/echo"
    cache.put(key: exportKey, value: Array(#"{"cluster":"west","name":"echo","namespace":"default","exportCreationTimestamp":"2026-11-30T10:00:00Z","ports":[{"name":"http","protocol":"TCP","port":80}],"type":"ClusterSetIP","sessionAffinity":"None"}"#.utf8))
    cache.put(key: exportKey, value: value)
    if let remote = cache.exports.values.first, let east = try? ClusterName("east") {
        let local = ClusterSetExport(cluster: east, createdAt: 0, createdText: "1970-01-01T00:00:00Z", ports: [ClusterSetExport.Port(name: "http", protocolName: "TCP", port: 80)])
        _ = ServiceImportView.resolve([local, remote])
    }
    for service in cache.services.values {
        for backends in service.backends.values { _ = MaglevTable(backends: backends.map(\.endpoint)) }
    }
}
