import InterlinkAgent
import Testing

/// Cluster mesh config files are read defensively: odd YAML is an error naming the file, never a crash.
struct ClusterMeshConfigParseTests {
    @Test("Cilium's file parses; odd YAML (a key that is a list or a mapping, endpoints that are not text) is an error, not a crash", arguments: [
        ("endpoints:\n- https://127.0.2.1:2379\n", true),
        ("? [a, b]\n: c\nendpoints: [http://127.0.0.1:2379]\n", true),
        ("{[1]: 2, endpoints: [http://127.0.0.1:2379]}\n", true),
        ("endpoints: [[http://127.0.0.1:2379]]\n", false),
        ("endpoints: http://127.0.0.1:2379\n", false),
        ("{c,\u{FFFD}\u{FFFD}\"bapaid\":4\u{FFFD}c,\n", false),
        ("- endpoints\n", false),
        ("", false),
    ])
    func parses(_ text: String, _ valid: Bool) {
        do {
            let config = try RemoteClusterConfig.parse(file: "west", text: text, path: "/mesh/west")
            #expect(valid, "accepted \(config)")
        } catch {
            #expect(!valid, "\(error)")
            #expect(error.description.hasPrefix("/mesh/west: "))
        }
    }
}
