import ArgumentParser
import InterlinkAgent
import InterlinkCore
import InterlinkDemo
import NIOPosix

struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Run a tiny demo backend that says who it is.",
        discussion: """
            HTTP clients (curl) get `backend=NAME cluster=CLUSTER`; other clients (nc) get each \
            line back as `NAME: line`. Runs until interrupted.
            """
    )

    @Option(help: "Address to listen on (repeat for several).")
    var listen: [SocketEndpoint]

    @Option(help: "The name it answers with.")
    var name: String

    @Option(help: "The cluster name it answers with.")
    var cluster: String = "default"

    func run() async throws {
        let backend = try await DemoBackend.start(name: name, cluster: cluster, listen: listen, group: MultiThreadedEventLoopGroup.singleton)
        print("backend \(name) listening on \(listen.map(\.description).joined(separator: ", "))")
        await backend.wait()
    }
}
