@testable import InterlinkAgent
import Testing

/// The Prometheus text the agent writes for state read at scrape time.
struct ExpositionTextTests {
    @Test("a family has its help and type lines, then samples with quoted labels")
    func layout() {
        var text = ExpositionText()
        text.family("interlink_backends", "gauge", help: "Backends")
        text.sample("interlink_backends", ["service": "default/echo", "cluster": "east"], 3)
        text.sample("interlink_backends", [:], 0.5)
        #expect(String(decoding: text.bytes, as: UTF8.self) == """
            # HELP interlink_backends Backends
            # TYPE interlink_backends gauge
            interlink_backends{service="default/echo",cluster="east"} 3
            interlink_backends 0.5

            """)
    }

    @Test("label values escape backslash, double quote and line feed; infinities are spelt as Prometheus reads them",
          arguments: [("a\\b", #"a\\b"#), ("say \"hi\"", #"say \"hi\""#), ("two\nlines", #"two\nlines"#)])
    func escaping(raw: String, escaped: String) {
        var text = ExpositionText()
        text.sample("m", ["label": raw], Double.infinity)
        #expect(String(decoding: text.bytes, as: UTF8.self) == "m{label=\"\(escaped)\"} +Inf\n")
    }
}
