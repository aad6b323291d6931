@testable import InterlinkAgent
import InterlinkCore
import Testing

/// Defaults that keep an agent safe when it is started with no more than it needs.
struct SafeDefaultsTests {
    static func settings(api: String, token: String? = nil) throws -> AgentSettings {
        var settings = AgentSettings(clusterName: try ClusterName("east"), clusterID: try ClusterID(1), manifestsPath: "/dev/null", apiListen: SocketEndpoint(api)!)
        settings.apiTokenFile = token
        return settings
    }

    @Test("an API reachable from other hosts needs --api-token-file; loopback does not", arguments: [
        ("0.0.0.0:9876", nil, false), ("[::]:9876", nil, false), ("127.0.3.1:9876", nil, true), ("[::1]:9876", nil, true),
        ("[::ffff:127.0.0.1]:9876", nil, true), ("0.0.0.0:9876", "/etc/interlink/token", true),
    ] as [(String, String?, Bool)])
    func nonLoopbackNeedsToken(_ api: String, _ token: String?, _ starts: Bool) throws {
        let settings = try Self.settings(api: api, token: token)
        if starts {
            try settings.validate()
        } else {
            let error = #expect(throws: SettingsError.self) { try settings.validate() }
            #expect(error?.description.contains("--api-token-file") == true)
        }
    }

    @Test("the Bearer scheme is case-insensitive; the token must match exactly", arguments: [
        ("Bearer s3cret", true), ("bearer s3cret", true), ("BEARER s3cret", true), ("Bearer  s3cret", true),
        ("Bearer s3cre", false), ("Bearer s3cret2", false), ("Bearer S3CRET", false), ("Basic s3cret", false), ("s3cret", false), ("", false),
    ])
    func bearer(_ header: String, _ accepted: Bool) {
        #expect(AgentAPI.isAuthorized(header, token: "s3cret") == accepted)
        #expect(AgentAPI.isAuthorized(nil, token: "s3cret") == false)
    }
}
