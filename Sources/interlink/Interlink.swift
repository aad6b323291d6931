import ArgumentParser

@main
struct Interlink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interlink",
        abstract: "Multi-cluster global-service load balancer with service affinity (Cilium Cluster Mesh semantics, in user space).",
        discussion: """
            Exit codes: 0 success; 1 runtime failure (e.g. a frontend cannot be bound); \
            2 invalid manifests; 64 invalid command-line arguments.
            """,
        subcommands: [
            AgentCommand.self, ConnectCommand.self, DisconnectCommand.self, StatusCommand.self, ServicesCommand.self, ExplainCommand.self,
            ApplyCommand.self, DeleteCommand.self, RevertCommand.self, AnnotateCommand.self, DrainCommand.self, UndrainCommand.self, DemoCommand.self,
            ValidateCommand.self, BackendCommand.self, CertsCommand.self,
        ]
    )
}
