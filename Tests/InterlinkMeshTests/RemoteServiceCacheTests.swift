import InterlinkCore
import InterlinkMesh
import Testing

struct RemoteServiceCacheTests {
    static let west = try! ClusterName("west")
    static let westID = try! ClusterID(2)

    static func value(_ name: String, backend: String = "10.0.0.2") -> [UInt8] {
        Array("""
            {"cluster":"west","clusterID":2,"namespace":"default","name":"\(name)","includeExternal":true,"shared":true,\
            "backends":{"\(backend)":{"http":{"Protocol":"TCP","Port":8080}}},"frontends":{}}
            """.utf8)
    }

    static func key(_ name: String) -> String { "cilium/state/services/v1/west/default/\(name)" }

    @Test("invalid entries are counted and skipped; the valid ones stay")
    func invalidSkipped() {
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: Self.westID)
        cache.put(key: Self.key("a"), value: Self.value("a"))
        cache.put(key: Self.key("b"), value: Array("garbage".utf8))
        cache.put(key: Self.key("c"), value: Self.value("not-c"))
        #expect(cache.services.keys.map(\.name) == ["a"])
        #expect(cache.invalidEntries == 2)
        #expect(cache.lastInvalid?.key == Self.key("c"))
    }

    @Test("a resync drops what the re-list does not show again, and keeps the rest")
    func resyncDropsStale() {
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: Self.westID)
        cache.put(key: Self.key("a"), value: Self.value("a"))
        cache.put(key: Self.key("b"), value: Self.value("b"))
        cache.beginResync()
        cache.put(key: Self.key("b"), value: Self.value("b", backend: "10.0.0.9"))
        #expect(cache.services.count == 2, "nothing is dropped before the list completes")
        cache.finishResync()
        #expect(cache.services.keys.map(\.name) == ["b"])
        #expect(cache.services.first?.value.backends["http"]?.first?.endpoint.description == "10.0.0.9:8080")
    }

    @Test("deletes remove a service; other clusters' keys are ignored; clear drains everything")
    func deletesAndClear() {
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: Self.westID)
        cache.put(key: Self.key("a"), value: Self.value("a"))
        cache.put(key: Self.key("b"), value: Self.value("b"))
        cache.delete(key: "cilium/state/services/v1/west2/default/a")
        #expect(cache.services.count == 2)
        cache.delete(key: Self.key("a"))
        #expect(cache.services.keys.map(\.name) == ["b"])
        cache.clear()
        #expect(cache.services.isEmpty)
    }
}
