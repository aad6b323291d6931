import Foundation
import Testing
@testable import InterlinkMesh

struct GatewayJSONTests {
    @Test("the store's JSON writer escapes quotes, backslashes and control characters, and nests objects and arrays")
    func roundTrips() throws {
        let object: [String: Any] = [
            "text": "a \"quoted\" back\\slash\nnew line\u{1}", "flag": true, "off": false, "count": 42,
            "list": [["key": "a2V5"], "plain"] as [Any], "unicode": "é ✓",
        ]
        let line = GatewayJSON.line(object)
        let bytes = Data(line.readableBytesView)
        #expect(bytes.last == UInt8(ascii: "\n"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        #expect(parsed["text"] as? String == "a \"quoted\" back\\slash\nnew line\u{1}")
        #expect(parsed["flag"] as? Bool == true && parsed["off"] as? Bool == false)
        #expect(parsed["count"] as? Int == 42)
        #expect(((parsed["list"] as? [Any])?.first as? [String: String])?["key"] == "a2V5")
        #expect(parsed["unicode"] as? String == "é ✓")
    }
}
