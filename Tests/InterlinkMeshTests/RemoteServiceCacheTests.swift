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

extension RemoteServiceCacheTests {
    @Test("an invalid value over a valid entry removes that entry's backends and is counted")
    func invalidOverValid() {
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: Self.westID)
        cache.put(key: Self.key("a"), value: Self.value("a"))
        cache.put(key: Self.key("b"), value: Self.value("b"))
        let invalid = cache.put(key: Self.key("a"), value: Array(#"{"cluster":"west"}"#.utf8))
        #expect(invalid?.key == Self.key("a"))
        #expect(cache.services.keys.map(\.name) == ["b"], "a's old backends are no longer routed")
        #expect(cache.invalidEntries == 1)
    }

    @Test("an entry listing more than the limit of backends is skipped as invalid")
    func tooManyBackends() throws {
        let ports = (0...ClusterService.maximumBackends / 4).map { "\"p\($0)\":{\"Protocol\":\"TCP\",\"Port\":\(1000 + $0)}" }.joined(separator: ",")
        let addresses = (1...4).map { "\"127.0.3.\($0)\":{\(ports)}" }.joined(separator: ",")
        let json = """
            {"cluster":"west","clusterID":2,"namespace":"default","name":"big","includeExternal":true,"shared":true,"backends":{\(addresses)}}
            """
        var cache = RemoteServiceCache(cluster: Self.west, clusterID: Self.westID)
        let result = cache.put(key: Self.key("big"), value: Array(json.utf8))
        let invalid = try #require(result)
        #expect(invalid.reason.contains("more than the limit of \(ClusterService.maximumBackends)"), "\(invalid.reason)")
        #expect(cache.services.isEmpty)
    }
}
