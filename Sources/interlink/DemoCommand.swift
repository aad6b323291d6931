import ArgumentParser
import Foundation
import InterlinkAgent
import InterlinkCore
import NIOPosix

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the seed scenario on this machine: two connected clusters, steady traffic, failover and back.",
        discussion: """
            Starts two clusters, east and west (each an agent with its embedded store, served over \
            mutual TLS with certificates made as interlink certs makes them, and two backends \
            that answer with their cluster's name), connects them, and sends steady new \
            connections to east's frontend of the global service default/echo while it walks \
            through the phases: affinity none (about half each), local (all in east), east's \
            backends fail (all to west, no failed request), they come back (all in east), \
            affinity remote (all to west). Prints the share per cluster every second and a table \
            at the end; exits 1 if a phase did not behave. Ctrl-C stops everything and cleans up.
            """)

    @Option(help: "How long each phase lasts.")
    var phaseSeconds: String = "8s"

    @Option(help: "How long the whole walk-through lasts (five phases); overrides --phase-seconds.")
    var duration: String?

    @Option(help: "Pause between two client connections.")
    var interval: String = "20ms"

    @Option(help: "The first two octets' third value for the clusters' loopback addresses: east uses 127.0.N.x, west 127.0.N+1.x.")
    var subnet: Int = 91

    func validate() throws {
        guard (1...253).contains(subnet) else { throw ValidationError("--subnet: \(subnet) is not valid: expected 1 to 253") }
    }

    func run() async throws {
        let phaseLength = try duration.map { try parseDuration($0, option: "--duration") / 5 } ?? parseDuration(phaseSeconds, option: "--phase-seconds")
        guard phaseLength >= .seconds(2) else { throw ValidationError("\(duration.map { "--duration \($0)" } ?? "--phase-seconds \(phaseSeconds)") is too short: a phase needs at least 2s (its first second absorbs the change); five phases make a --duration of at least 10s") }
        let pause = try parseDuration(interval, option: "--interval")
        let demo = try DemoMesh(subnet: subnet)
        let interrupt = DemoInterrupt { demo.cleanUp() }
        defer {
            interrupt.cancel()
            demo.cleanUp()
        }
        print("starting two clusters: east (127.0.\(subnet).x) and west (127.0.\(subnet + 1).x) ...")
        let stores = try await demo.start()
        let list = { (name: String) in stores[name, default: []].joined(separator: ",") }
        print("connected, east reading \(list("west")) and west reading \(list("east")), each with a client certificate of CN remote (mutual TLS)")
        print("Watch it live in a browser: \(demo.east.api)/  (the dashboard)")
        print("or: interlink explain default/echo --api \(demo.east.api)")
        print("traffic: new connections to east's frontend \(demo.east.frontend), one every \(interval); share per cluster each second:\n")
        fflush(nil)  // live through a pipe (`interlink demo | tee`), where stdout is block-buffered

        let phases: [DemoPhase] = [
            DemoPhase(title: "affinity none", expectation: "both clusters", action: { try await demo.annotate("none") }, check: { $0.share("east") > 0.15 && $0.share("west") > 0.15 && $0.failed == 0 }),
            DemoPhase(title: "affinity local", expectation: "100% east", action: { try await demo.annotate("local") }, check: { $0.share("east") == 1 && $0.failed == 0 }),
            DemoPhase(title: "east's backends fail", expectation: "100% west, 0 failed", action: { await demo.stopEastBackends() }, check: { $0.share("west") == 1 && $0.failed == 0 }),
            DemoPhase(title: "east's backends are back", expectation: "100% east", action: { try await demo.startEastBackends() }, check: { $0.share("east") == 1 && $0.failed == 0 }),
            DemoPhase(title: "affinity remote", expectation: "100% west", action: { try await demo.annotate("remote") }, check: { $0.share("west") == 1 && $0.failed == 0 }),
        ]
        var results: [(DemoPhase, DemoTally, DemoTally)] = []
        for (index, phase) in phases.enumerated() {
            print("phase \(index + 1) of \(phases.count): \(phase.title) (expect \(phase.expectation))")
            fflush(nil)
            try await phase.action()
            var whole = DemoTally()
            var settled = DemoTally()
            let start = ContinuousClock.now
            var secondIndex = 0
            while ContinuousClock.now - start < phaseLength {
                secondIndex += 1
                var second = DemoTally()
                let secondStart = ContinuousClock.now
                while ContinuousClock.now - secondStart < .seconds(1), ContinuousClock.now - start < phaseLength {
                    do {
                        second.count(try await DemoProbe.cluster(at: demo.east.frontend))
                    } catch {
                        second.failed += 1
                    }
                    try await Task.sleep(for: pause)
                }
                whole.add(second)
                // The first second absorbs the change itself (health checks need `rise` passes to bring a backend back).
                if secondIndex > 1 { settled.add(second) }
                print("  \(second.line)")
                fflush(nil)
            }
            results.append((phase, whole, settled))
        }
        print("\nphase                      expected               share (after the first second)   failed  verdict")
        var allGood = true
        for (phase, whole, settled) in results {
            let good = phase.check(settled) && whole.failed == 0
            allGood = allGood && good
            print(phase.title.padding(toLength: 27, withPad: " ", startingAt: 0)
                + phase.expectation.padding(toLength: 23, withPad: " ", startingAt: 0)
                + settled.shares.padding(toLength: 33, withPad: " ", startingAt: 0)
                + "\(whole.failed)".padding(toLength: 8, withPad: " ", startingAt: 0)
                + (good ? "ok" : "NOT AS EXPECTED"))
        }
        print(allGood ? "\nevery phase behaved: cleaning up." : "\nsome phase did not behave as expected.")
        if !allGood { throw ExitCode(1) }
    }
}

struct DemoPhase {
    var title: String
    var expectation: String
    var action: () async throws -> Void
    var check: (DemoTally) -> Bool
}

/// Answers per cluster and failed connections.
struct DemoTally {
    var clusters: [String: Int] = [:]
    var failed = 0

    var total: Int { clusters.values.reduce(0, +) }
    mutating func count(_ cluster: String) { clusters[cluster, default: 0] += 1 }
    mutating func add(_ other: DemoTally) {
        for (cluster, count) in other.clusters { clusters[cluster, default: 0] += count }
        failed += other.failed
    }
    func share(_ cluster: String) -> Double { total == 0 ? 0 : Double(clusters[cluster] ?? 0) / Double(total) }
    var shares: String {
        ["east", "west"].map { "\($0) \(Int((share($0) * 100).rounded()))%" }.joined(separator: "  ")
    }
    var line: String {
        let bar = { (cluster: String) in String(repeating: cluster == "east" ? "E" : "W", count: Int((share(cluster) * 20).rounded())) }
        return "\(shares)  failed \(failed)  \(bar("east"))\(bar("west"))"
    }
}
