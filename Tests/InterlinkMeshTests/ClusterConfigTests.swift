import Foundation
import InterlinkMesh
import Testing

struct ClusterConfigTests {
    @Test("Cilium's cluster config decodes with and without capabilities (zero values are left out)")
    func decodes() throws {
        let full = try JSONDecoder().decode(ClusterConfig.self, from: Data(#"{"id":7,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":511}}"#.utf8))
        #expect(full == ClusterConfig(id: 7, capabilities: .init(syncedCanaries: true, maxConnectedClusters: 511)))
        let bare = try JSONDecoder().decode(ClusterConfig.self, from: Data(#"{"id":9}"#.utf8))
        #expect(bare.id == 9 && bare.capabilities.syncedCanaries == false)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ClusterConfig.self, from: Data(#"{"id":"nine"}"#.utf8)) }
    }
}
