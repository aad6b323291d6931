import ArgumentParser
import Foundation
import InterlinkAPI
import InterlinkAgent

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this cluster and every remote one: connected, last sync, what was received.",
        discussion: """
            With --wait, waits until every configured remote cluster is connected (printing \
            progress) and exits 1 if they are not within --wait-duration.

            Examples: interlink status; interlink status --wait --wait-duration 30s; interlink status -o json
            """)

    @OptionGroup var apiOptions: APIOptions

    @Flag(help: "Wait until every configured remote cluster is connected.")
    var wait = false

    @Option(help: "How long --wait waits.")
    var waitDuration: String = "60s"

    @Option(name: .shortAndLong, help: "Output: table or json.")
    var output: OutputFormat = .table

    func run() async throws {
        let client = try apiOptions.client()
        let limit = try parseDuration(waitDuration, option: "--wait-duration")
        var document = try await client.clusters()
        if wait {
            let deadline = ContinuousClock.now + limit
            var lastProgress = ""
            while true {
                let waiting = document.remotes.filter { !$0.connected }
                if waiting.isEmpty { break }
                let progress = "waiting: \(document.remotes.count - waiting.count) of \(document.remotes.count) remote clusters connected; "
                    + waiting.map { "\($0.name): \($0.problem ?? $0.lastError ?? "connecting")" }.joined(separator: "; ")
                if progress != lastProgress { FileHandle.standardError.write(Data((progress + "\n").utf8)) }
                lastProgress = progress
                guard ContinuousClock.now < deadline else {
                    print(render(document))
                    fflush(nil)  // progress stays live through a pipe
                    throw AgentClientError("not every remote cluster connected within \(waitDuration): \(waiting.map(\.name).joined(separator: ", "))")
                }
                try await Task.sleep(for: .milliseconds(250))
                document = try await client.clusters()
            }
        }
        switch output {
        case .json, .yaml: print(try jsonText(document))
        case .table: print(render(document))
        }
    }

    func render(_ document: ClustersDocument) -> String {
        let local = document.local
        var storeState = ""
        switch local.storeHealthy {
        case true?: storeState = " (healthy" + (local.lastExportAgeSeconds.map { ", last export \(ageText($0)) ago" } ?? "") + ")"
        case false?: storeState = " (UNHEALTHY: \(local.storeError ?? "no export yet"))"
        case nil: break
        }
        var lines = [
            "cluster \(local.name) (ID \(local.id)), kvstore \(local.kvstore)"
                + (local.storeEndpoints.isEmpty ? "" : " at \(local.storeEndpoints.joined(separator: ", "))") + storeState
                + ", \(local.globalServices) global service\(local.globalServices == 1 ? "" : "s")",
        ]
        if let manifests = document.manifests { lines += render(manifests) }
        guard !document.remotes.isEmpty else {
            lines.append("no remote cluster configured (connect one with: interlink connect THIS-API OTHER-API)")
            return lines.joined(separator: "\n")
        }
        lines.append("remote clusters:")
        var rows = [["NAME", "ID", "CONNECTED", "CANARY", "LAST SYNC", "SERVICES", "BACKENDS", "INVALID", "FAILURES", "LAST ERROR"]]
        for remote in document.remotes {
            rows.append([
                remote.name, remote.id.map(String.init) ?? "-", remote.connected ? "yes" : "no",
                remote.canarySeen.map { $0 ? "seen" : "waiting" } ?? "-",
                remote.lastSyncAgeSeconds.map { "\(ageText($0)) ago" } ?? "never",
                "\(remote.services)", "\(remote.backends)", "\(remote.invalidEntries)", "\(remote.failures)",
                remote.problem ?? remote.lastError ?? "",
            ])
        }
        lines.append(table(rows, indent: "  "))
        for remote in document.remotes {
            let notes = [remote.cached == true ? "a KVStoreMesh cache (cilium/cache/)" : nil, remote.note].compactMap { $0 } + (remote.warnings ?? [])
            if !notes.isEmpty { lines.append("  \(remote.name): " + notes.joined(separator: "; ")) }
        }
        return lines.joined(separator: "\n")
    }
}

extension StatusCommand {
    /// The manifest files (watched), their last change, and the live changes over them.
    func render(_ manifests: ClustersDocument.Manifests) -> [String] {
        var lines = [manifests.path == "-" ? "manifests from standard input (not watched)" : "manifests \(manifests.path) (watched)"]
        if let result = manifests.lastResult, let time = manifests.lastChange {
            lines[0] += result == "rejected"
                ? ": last change REJECTED at \(time); the previous files stay in force"
                : ": last change applied at \(time)"
        }
        lines += manifests.problems.map { "  problem: \($0)" }
        lines += manifests.report.map { "  \($0)" }
        if manifests.overrides.isEmpty {
            lines.append("  no live changes: the files are in force as written")
        } else {
            lines.append("  live changes over the files (interlink revert service NS/NAME drops a service's):")
            lines += manifests.overrides.map { "    \($0)" }
        }
        return lines
    }
}

func jsonText<Value: Encodable>(_ value: Value) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
