import ArgumentParser
import Foundation
import InterlinkAgent
import InterlinkCore
import InterlinkMesh
import Logging

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the agent: load-balance every Service in the manifests.",
        discussion: """
            Listens on each Service's clusterIP:port and spreads new TCP connections over the \
            healthy backends of its EndpointSlices. Invalid manifests are reported in full and \
            nothing starts (exit 2). SIGTERM or SIGINT stops accepting, lets open connections \
            finish for --drain-grace, then exits 0.
            """
    )

    @Option(help: "This cluster's name: up to 32 of a-z, 0-9 and '-', starting and ending with a letter or digit.")
    var clusterName: String = "default"

    @Option(help: "This cluster's ID in the mesh, 1 to 255 (1 to 511 with --max-connected-clusters 511).")
    var clusterID: Int = 1

    @Option(help: "Clusters the mesh may connect, as Cilium's --max-connected-clusters: 255 or 511; every cluster of the mesh must use the same value.")
    var maxConnectedClusters: Int = 255

    @Option(help: "A manifest file, or a directory whose *.yaml / *.yml / *.json files are read; watched: a changed file takes effect within a second, an invalid one changes nothing.")
    var manifests: String

    @OptionGroup var reading: ManifestReadingOptions

    @Option(help: "Address of the JSON API (GET /healthz, GET /v1/services), as IP:PORT or [IPv6]:PORT.")
    var apiListen: SocketEndpoint = AgentSettings.defaultAPIListen

    @Option(help: "Time a backend dial may take before the next backend is tried.")
    var connectTimeout: String = "2s"

    @Option(help: "Backends tried per client connection, never the same twice (1-10).")
    var maxAttempts: Int = 3

    @Option(help: "Close a connection after this long without traffic either way.")
    var idleTimeout: String = "1h"

    @Option(help: "On SIGTERM/SIGINT, how long open connections may finish before they are closed.")
    var drainGrace: String = "10s"

    @Option(help: "Data-plane event-loop threads (default: one per CPU, within cgroup limits; under taskset, set it yourself).")
    var threads: Int?

    @Option(help: "The data plane: epoll (purpose-built Linux event loops, the default on Linux) or nio (SwiftNIO channels).")
    var dataPlane: String?

    @Option(help: "This cluster's kvstore, where it exports its global services: embedded (the agent's own, served on --mesh-listen), etcd (with --kvstore-endpoints), or none.")
    var kvstore: String = "embedded"

    @Option(help: "etcd endpoints of this cluster's kvstore, comma-separated (http://IP:PORT).")
    var kvstoreEndpoints: String?

    @Option(help: "CA certificate (PEM) that signs the etcd servers' certificates (https:// endpoints).")
    var kvstoreTrustedCAFile: String?

    @Option(help: "Client certificate (PEM) for etcd's mutual TLS; with --kvstore-key-file.")
    var kvstoreCertFile: String?

    @Option(help: "Private key (PEM) of --kvstore-cert-file.")
    var kvstoreKeyFile: String?

    @Option(help: "Where the embedded store is served to other clusters with etcd's gRPC protocol, as IP:PORT (read-only for them; with TLS: see --mesh-tls-dir).")
    var meshListen: SocketEndpoint = EmbeddedStoreSettings.defaultListen

    @Option(help: "Directory of the embedded store's SQLite file (default: $XDG_STATE_HOME or ~/.local/state, then interlink/CLUSTER-NAME).")
    var dataDir: String?

    @Flag(help: "Let peers write to the embedded store (for tests and benchmarks; by default only this agent writes).")
    var meshAllowWrites = false

    @Option(help: "Directory with one file per remote cluster, named after it, in Cilium's format (endpoints, trusted-ca-file, cert-file, key-file); watched for changes (default: DATA-DIR/clustermesh).")
    var clustermeshConfig: String?

    @Option(help: "Store URLs other clusters should use to reach this one, comma-separated (default: http://MESH-LISTEN, or the etcd endpoints); needed when --mesh-listen is 0.0.0.0.")
    var meshAdvertise: String?

    @Option(help: "File holding a token that mutating API calls must present (Authorization: Bearer TOKEN).")
    var apiTokenFile: String?

    @Option(help: "Networks remote backends must be in, comma-separated CIDRs such as 10.1.0.0/16 (default: any address that is not refused).")
    var backendAllowedCidrs: String?

    @Option(help: "Networks whose addresses are never dialled as remote backends, comma-separated CIDRs.")
    var backendDeniedCidrs: String?

    @Option(help: "Connections the API serves at once; more wait in the listen backlog (at most an eighth of the descriptor limit).")
    var apiMaxConnections: Int = HTTPServerLimits.api.maxConnections

    @Option(help: "Connections the mesh port serves at once; more wait in the listen backlog (at most an eighth of the descriptor limit).")
    var meshMaxConnections: Int = HTTPServerLimits.mesh.maxConnections

    @Option(help: "Close an API or mesh-port connection that sends nothing of its request, or stays idle between requests, for this long (a watch being streamed is not idle).")
    var controlIdleTimeout: String = "30s"

    @Option(help: "How often cilium/.heartbeat is written to this cluster's store; Cilium agents reconnect when it is older than about two minutes.")
    var kvstoreHeartbeatInterval: String = "1m"

    @Option(help: "Drop an unreachable remote cluster's backends after this long (default: keep them).")
    var clustermeshCacheTTL: String?

    @OptionGroup(title: "Mesh port TLS and users") var meshTLS: MeshTLSOptions

    @OptionGroup var logging: LoggingOptions

    /// The options as given; `AgentSettings(flags:)` validates them.
    var flags: AgentFlags {
        var flags = AgentFlags(manifests: manifests)
        flags.defaultFrontend = reading.defaultFrontend
        flags.strict = reading.strict
        flags.clusterName = clusterName
        flags.clusterID = clusterID
        flags.maxConnectedClusters = maxConnectedClusters
        flags.apiListen = apiListen
        flags.connectTimeout = connectTimeout
        flags.maxAttempts = maxAttempts
        flags.idleTimeout = idleTimeout
        flags.drainGrace = drainGrace
        flags.threads = threads
        flags.dataPlane = dataPlane
        flags.kvstore = kvstore
        flags.kvstoreEndpoints = kvstoreEndpoints
        flags.kvstoreTrustedCAFile = kvstoreTrustedCAFile
        flags.kvstoreCertFile = kvstoreCertFile
        flags.kvstoreKeyFile = kvstoreKeyFile
        flags.kvstoreHeartbeatInterval = kvstoreHeartbeatInterval
        flags.meshListen = meshListen
        flags.dataDir = dataDir
        flags.meshAllowWrites = meshAllowWrites
        flags.clustermeshConfig = clustermeshConfig
        flags.clustermeshCacheTTL = clustermeshCacheTTL
        flags.meshAdvertise = meshAdvertise
        flags.apiTokenFile = apiTokenFile
        flags.backendAllowedCIDRs = backendAllowedCidrs
        flags.backendDeniedCIDRs = backendDeniedCidrs
        flags.apiMaxConnections = apiMaxConnections
        flags.meshMaxConnections = meshMaxConnections
        flags.controlIdleTimeout = controlIdleTimeout
        meshTLS.apply(to: &flags)
        return flags
    }

    func run() async throws {
        let settings: AgentSettings
        do { settings = try AgentSettings(flags: flags) } catch { throw ValidationError(error.description) }
        let (name, id) = (settings.clusterName, settings.clusterID)
        let logger = try logging.makeLogger(label: "interlink.agent")

        let agent: Agent
        do {
            agent = try Agent(settings: settings, logger: logger)
        } catch let errors as ManifestErrors {
            printError(errors.description)
            printError("interlink agent: not started; fix the manifests (check them with: interlink validate \(manifests))")
            throw ExitCode(2)
        } catch let error as SettingsError {
            printError("interlink agent: not started: \(error)")
            throw ExitCode(2)
        } catch let error as AgentError {
            printError("interlink agent: not started: \(error)")
            throw ExitCode(1)
        }
        logger.info("agent starting", metadata: ["cluster": "\(name)", "cluster-id": "\(id)", "api": "\(apiListen)", "kvstore": "\(kvstore)"])
        do {
            try await agent.run()
        } catch {
            printError("interlink agent: \(error)")
            throw ExitCode(1)
        }
        logger.info("agent stopped")
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
