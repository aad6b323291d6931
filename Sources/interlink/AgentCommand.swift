import ArgumentParser
import Foundation
import InterlinkAgent
import InterlinkCore
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

    @Option(help: "This cluster's ID in the mesh, 1 to 255.")
    var clusterID: Int = 1

    @Option(help: "A manifest file, or a directory whose *.yaml / *.yml files are read.")
    var manifests: String

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

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...10).contains(maxAttempts) else { throw ValidationError("--max-attempts: \(maxAttempts) is not valid: expected 1 to 10") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads: \(threads) is not valid: expected 1 to 256") }
    }

    func run() async throws {
        let name: ClusterName
        let id: ClusterID
        do { name = try ClusterName(clusterName) } catch { throw ValidationError("--cluster-name: \(error)") }
        do { id = try ClusterID(clusterID) } catch { throw ValidationError("--cluster-id: \(error)") }
        var settings = AgentSettings(clusterName: name, clusterID: id, manifestsPath: manifests, apiListen: apiListen)
        settings.proxy.connectTimeout = try parseDuration(connectTimeout, option: "--connect-timeout")
        settings.proxy.idleTimeout = try parseDuration(idleTimeout, option: "--idle-timeout")
        settings.proxy.maxAttempts = maxAttempts
        settings.drainGrace = try parseDuration(drainGrace, option: "--drain-grace")
        settings.threads = threads
        let logger = try logging.makeLogger(label: "interlink.agent")

        let agent: Agent
        do {
            agent = try Agent(settings: settings, logger: logger)
        } catch let errors as ManifestErrors {
            printError(errors.description)
            printError("interlink agent: not started; fix the manifests (check them with: interlink validate \(manifests))")
            throw ExitCode(2)
        }
        logger.info("agent starting", metadata: ["cluster": "\(name)", "cluster-id": "\(id)", "api": "\(apiListen)"])
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
