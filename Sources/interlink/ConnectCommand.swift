import ArgumentParser
import Foundation
import InterlinkAPI
import InterlinkAgent

/// The options every client command shares: how to reach agents and prove the right to change them.
struct APITokenOption: ParsableArguments {
    @Option(help: "File holding the API token of the agents (default: INTERLINK_API_TOKEN, if set).")
    var apiTokenFile: String?

    func token() throws -> String? {
        if let apiTokenFile {
            guard let text = try? String(contentsOfFile: apiTokenFile, encoding: .utf8) else {
                throw ValidationError("--api-token-file: \(apiTokenFile) cannot be read")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["INTERLINK_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect two or more running agents into a mesh, each to every other.",
        discussion: """
            Reads each agent's cluster (name, ID, store endpoints) through its API, checks that \
            names and IDs are unique, then tells every agent about every other one (the agent \
            writes the file in its cluster mesh folder). Waits until every agent is connected to \
            every other, up to --timeout.

            Example: interlink connect http://127.0.0.1:9876 http://127.0.0.2:9876
            """)

    @Argument(help: "API URL of each agent (http://IP:PORT).")
    var agents: [String]

    @Option(help: "How long to wait for every connection (0: do not wait).")
    var timeout: String = "30s"

    @OptionGroup var tokenOption: APITokenOption

    func validate() throws {
        guard agents.count >= 2 else { throw ValidationError("give the API URLs of at least two agents, e.g. interlink connect http://127.0.0.1:9876 http://127.0.0.2:9876") }
        guard Set(agents).count == agents.count else { throw ValidationError("an agent URL is given twice") }
    }

    func run() async throws {
        let token = try tokenOption.token()
        let wait = timeout == "0" ? Duration.zero : try parseDuration(timeout, option: "--timeout")
        let clients = agents.map { AgentClient($0, token: token) }
        let mesh = try await MeshPlan.read(clients)
        try mesh.checkJoinable()
        for (client, local) in zip(clients, mesh.locals) {
            for remote in mesh.locals where remote.name != local.name {
                let (status, body) = try await client.send(.POST, "/v1/clusters", body: ConnectRequest(name: remote.name, endpoints: remote.storeEndpoints))
                guard status == 201 else { throw AgentClientError("\(local.name) (\(client.baseURL)) refused to connect to \(remote.name): \(body)") }
            }
            print("\(local.name): connecting to \(mesh.locals.filter { $0.name != local.name }.map(\.name).joined(separator: ", "))")
        }
        guard wait > .zero else { return }
        try await mesh.waitConnected(clients, within: wait)
    }
}

struct DisconnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disconnect",
        abstract: "Disconnect running agents from each other; each drains the others' backends.",
        discussion: "Example: interlink disconnect http://127.0.0.1:9876 http://127.0.0.2:9876")

    @Argument(help: "API URL of each agent (http://IP:PORT).")
    var agents: [String]

    @OptionGroup var tokenOption: APITokenOption

    func validate() throws {
        guard agents.count >= 2 else { throw ValidationError("give the API URLs of at least two agents") }
    }

    func run() async throws {
        let clients = agents.map { AgentClient($0, token: try? tokenOption.token()) }
        let mesh = try await MeshPlan.read(clients)
        for (client, local) in zip(clients, mesh.locals) {
            var removed: [String] = []
            for remote in mesh.locals where remote.name != local.name {
                let (status, body) = try await client.send(.DELETE, "/v1/clusters/\(remote.name)")
                switch status {
                case 200: removed.append(remote.name)
                case 404: continue
                default: throw AgentClientError("\(local.name) (\(client.baseURL)) refused to disconnect from \(remote.name): \(body)")
                }
            }
            print("\(local.name): " + (removed.isEmpty ? "was not connected to the others" : "disconnected from \(removed.joined(separator: ", "))"))
        }
    }
}

/// The agents a connect or disconnect is about, as their APIs describe them.
struct MeshPlan {
    var locals: [ClustersDocument.Local]
    var remotes: [[ClustersDocument.Remote]]

    static func read(_ clients: [AgentClient]) async throws -> MeshPlan {
        var plan = MeshPlan(locals: [], remotes: [])
        for client in clients {
            let document = try await client.clusters()
            plan.locals.append(document.local)
            plan.remotes.append(document.remotes)
        }
        return plan
    }

    /// Names and IDs unique, every agent with a store, no clash with clusters already connected.
    func checkJoinable() throws {
        for (index, local) in locals.enumerated() {
            if let twin = locals[..<index].first(where: { $0.name == local.name }) {
                throw AgentClientError("two agents are both cluster \(twin.name): cluster names must be unique in the mesh")
            }
            if let twin = locals[..<index].first(where: { $0.id == local.id }) {
                throw AgentClientError("clusters \(twin.name) and \(local.name) both have ID \(local.id): restart one with another --cluster-id (1-255)")
            }
            if local.kvstore == "none" || local.storeEndpoints.isEmpty {
                throw AgentClientError("cluster \(local.name) has no kvstore (--kvstore none): other clusters could not read its services")
            }
        }
        for (index, local) in locals.enumerated() {
            for remote in remotes[index] {
                if let id = remote.id, let clash = locals.first(where: { $0.id == id && $0.name != remote.name }) {
                    throw AgentClientError("\(local.name) is already connected to \(remote.name) with ID \(id), the ID of \(clash.name): IDs must be unique in the mesh")
                }
            }
        }
    }

    func waitConnected(_ clients: [AgentClient], within timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        let names = Set(locals.map(\.name))
        var missing: [String] = []
        while ContinuousClock.now < deadline {
            missing = []
            for (client, local) in zip(clients, locals) {
                let document = try await client.clusters()
                let connected = Set(document.remotes.filter(\.connected).map(\.name))
                for name in names.subtracting([local.name]).subtracting(connected).sorted() {
                    let reason = document.remotes.first { $0.name == name }.flatMap { $0.problem ?? $0.lastError }
                    missing.append("\(local.name) → \(name)" + (reason.map { " (\($0))" } ?? ""))
                }
            }
            if missing.isEmpty {
                print("connected: every cluster sees every other (\(locals.map(\.name).joined(separator: ", ")))")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw AgentClientError("not connected within \(timeout): \(missing.joined(separator: "; "))")
    }
}
