import AsyncHTTPClient
import Foundation
import InterlinkAPI
import InterlinkCore
import NIOCore
import Testing

/// The routing policies across processes: three `interlink agent`s (east with four backends,
/// west and north with two) joined with `interlink connect`, and east's services set with
/// `interlink.io/*` annotations. What a user checks: where new connections go (by the backends'
/// names), that not one fails during a failover or a failback, that an open connection stays
/// where it is, and what `services`, `explain` and the metrics say.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RoutingPolicyEndToEndTests {
    static let fast = ["interlink.io/health-check-interval": "200ms", "service.cilium.io/global": "true"]
    /// East: local first, then west, then north; back only after 5 s of stable health (room for the test to see the hold), then
    /// over a 6 s ramp.
    static let ordered = fast.merging([
        "service.cilium.io/affinity": "local", "interlink.io/cluster-order": "west,north", "interlink.io/failback-delay": "5s",
        "interlink.io/failback-ramp": "6s",
    ]) { $1 }
    /// East: two of four healthy is the least it serves with; below full health it spills.
    static let gradual = fast.merging([
        "service.cilium.io/affinity": "local", "interlink.io/cluster-order": "west,north", "interlink.io/min-healthy": "2",
        "interlink.io/spill": "gradual",
    ]) { $1 }
    static let failoverBound = Duration.milliseconds(200 * 3 + 1000)

    @Test("cluster-order fails over east → west → north with no failed connection and fails back after the delay and ramp; gradual spill keeps 70 % at 2 of 4 healthy; min-healthy moves all away below 2; an open connection survives failover, affinity change and failback")
    func orderedFailoverAndGradualSpill() async throws {
        let mesh = try await Mesh.make(.embedded, subnets: [82, 83, 84], eastBackends: 4)
        try mesh.east.addService("ordered", port: 8010, annotations: Self.ordered)
        try mesh.east.addService("gradual", port: 8011, annotations: Self.gradual)
        for cluster in [mesh.west, mesh.north] {
            try cluster.addService("ordered", port: 8010, annotations: Self.fast)
            try cluster.addService("gradual", port: 8011, annotations: Self.fast)
        }
        do {
            try await mesh.start()
            let ordered = mesh.east.frontend(8010)
            let gradual = mesh.east.frontend(8011)
            #expect(await waitUntil(.seconds(10)) { await Self.tierCount(mesh.east, "gradual") == 3 }, "east sees west's and north's backends")
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 40)) == ["east"])
            #expect(MeshCluster.clusters(of: try await tallyBackends(gradual, 40)) == ["east"])

            // Two of east's four backends die: gradual keeps 1.4 × 2/4 = 70 % local, 30 % goes to west.
            await mesh.east.backends[2].stop()
            await mesh.east.backends[3].stop()
            #expect(await waitUntil(.seconds(10)) { await Self.tier(mesh.east, "gradual", "local")?.healthy == 2 })
            let spread = try await tallyBackends(gradual, 1200)
            let eastShare = Double(spread.filter { $0.key.hasPrefix("east-") }.values.reduce(0, +)) / 1200
            #expect(abs(eastShare - 0.7) < 0.05, "east's share at 2 of 4 healthy: \(spread)")
            print("routing-policy e2e: gradual spill at 2 of 4 healthy over 1200 connections: \(spread.sorted { $0.key < $1.key })")
            #expect(MeshCluster.clusters(of: spread) == ["east", "west"], "north is third in the order: \(spread)")
            let explained = try await Mesh.interlink(["explain", "default/gradual", "--api", mesh.east.apiURL])
            #expect(explained.contains("policy: cluster-order=west,north min-healthy=2 spill=gradual"), "\(explained)")
            #expect(explained.contains("tiers: local 70% (2/4 healthy) -> west 30% (2/2 healthy) -> north 0% (2/2 healthy)"), "\(explained)")
            let metrics = try await Self.metrics(mesh.east)
            let share = Self.sample(metrics, #"interlink_service_cluster_share{service="default/gradual",cluster="east"}"#)
            #expect(share.map { abs($0 - 0.7) < 0.001 } == true, "\(metrics.split(separator: "\n").filter { $0.contains("cluster_share") })")
            // All or nothing (the ordered service): one healthy backend keeps it all local.
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 40)) == ["east"])

            // A connection open on east-b1, which stays alive through what follows.
            var pinned: OpenConnection?
            for _ in 0..<100 where pinned == nil {
                let client = try await TestClient.open(gradual)
                if try await client.nextLine() == "east-b1" { pinned = client } else { await client.close() }
            }
            let onEast = try #require(pinned, "a connection lands on east-b1 (70 % go to east's two)")

            // One of four: below min-healthy 2, nothing stays in east.
            await mesh.east.backends[1].stop()
            #expect(await waitUntil(.seconds(10)) { await Self.tier(mesh.east, "gradual", "local")?.healthy == 1 })
            #expect(MeshCluster.clusters(of: try await tallyBackends(gradual, 60)) == ["west"])
            let listed = try await Mesh.interlink(["services", "--api", mesh.east.apiURL])
            #expect(listed.contains("local 0% (1/4 healthy, needs 2)"), "\(listed)")
            try await onEast.send("after the failover\n")
            #expect(try await onEast.nextLine() == "after the failover", "the open connection to east-b1 survived the failover")
            _ = try await Mesh.interlink(["annotate", "service", "default/gradual", "service.cilium.io/affinity=remote", "--api", mesh.east.apiURL])
            #expect(MeshCluster.clusters(of: try await tallyBackends(gradual, 40)) == ["west"], "affinity remote: west first in the order")
            try await onEast.send("after the affinity change\n")
            #expect(try await onEast.nextLine() == "after the affinity change", "the open connection to east-b1 survived the affinity change")
            await onEast.close()

            // East's last backend dies under traffic: west takes over, not one connection fails.
            let lastLocal = Task { await hammer(ordered, for: Self.failoverBound) }
            await mesh.east.backends[0].stop()
            let toWest = await lastLocal.value
            #expect(toWest.failures == 0, "\(toWest)")
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 40)) == ["west"], "west is first in the order")

            // West's backends die under traffic: north, the next in the order, with no failure.
            let westDown = Task { await hammer(ordered, for: Self.failoverBound) }
            await mesh.west.stopBackends()
            let toNorth = await westDown.value
            #expect(toNorth.failures == 0, "\(toNorth)")
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 40)) == ["north"])

            // Failback, under traffic throughout: west returns and is held for the delay while
            // north keeps the traffic, then takes it back; then east does the same.
            let failback = Task { await hammer(ordered, for: .seconds(120)) }
            try await mesh.west.startBackends()
            let heldWest = await Self.waitForHeld(mesh.east, "ordered", "west")
            #expect(heldWest, "west is held by the failback delay once it is back")
            if heldWest { #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 20)) == ["north"], "held: north keeps the traffic") }
            // The plan, not a tally, says when the ramp is over: late in a ramp 20 connections
            // can all land on west by chance.
            #expect(await waitUntil(.seconds(20)) { await Self.tier(mesh.east, "ordered", "west").map { $0.share > 0.999 } == true }, "after the delay and ramp west has it all")
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 20)) == ["west"], "after the delay and ramp west has it all again")

            // A connection open on west stays there when east takes the traffic back.
            let open = try await TestClient.open(ordered)
            let openedOn = try await open.nextLine()
            #expect(openedOn?.hasPrefix("west-") == true, "\(String(describing: openedOn))")
            try await mesh.east.startBackends()
            let heldLocal = await Self.waitForHeld(mesh.east, "ordered", "local")
            #expect(heldLocal, "east is held by the failback delay once its backends are healthy")
            #expect(await waitUntil(.seconds(15)) {
                (try? await tallyBackends(ordered, 20)).map { MeshCluster.clusters(of: $0) == ["east", "west"] } ?? false
            }, "during the ramp east and west share the new connections")
            #expect(await waitUntil(.seconds(20)) { await Self.tier(mesh.east, "ordered", "local").map { $0.share > 0.999 } == true }, "after the delay and ramp east has it all")
            #expect(MeshCluster.clusters(of: try await tallyBackends(ordered, 20)) == ["east"], "after the delay and ramp east has it all again")
            try await open.send("still here\n")
            #expect(try await open.nextLine() == "still here", "the open connection to \(openedOn ?? "?") survived the failback")
            await open.close()
            failback.cancel()
            let during = await failback.value
            #expect(during.failures == 0, "failed connections during the failbacks: \(during.errors.prefix(5))")
            print("routing-policy e2e: failovers \(toWest.tally.values.reduce(0, +) + toNorth.tally.values.reduce(0, +)) connections, \(toWest.failures + toNorth.failures) failed; failbacks \(during.tally.values.reduce(0, +)) connections, \(during.failures) failed")
            #expect(MeshCluster.clusters(of: during.tally) == ["north", "west", "east"], "\(during.tally)")
        } catch {
            await mesh.shutdown()
            throw error
        }
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }

    @Test("cluster-weights east=3,west=1 gives east 60 %, west and north 20 % each (±5 points over 1000 connections); with every health check failing in every cluster, panic still serves the clients and explain says so")
    func clusterWeightsAndPanic() async throws {
        let mesh = try await Mesh.make(.embedded, subnets: [85, 86, 87])
        // Affinity none, weighted: north is not listed and weighs 1.
        try mesh.east.addService("weighted", port: 8012, annotations: Self.fast.merging(["interlink.io/cluster-weights": "east=3,west=1"]) { $1 })
        // An HTTP check the line-protocol test backends never pass: no backend is healthy anywhere.
        let failing = Self.fast.merging(["interlink.io/health-check": "http"]) { $1 }
        try mesh.east.addService("panicky", port: 8013, annotations: failing)
        for cluster in [mesh.west, mesh.north] {
            try cluster.addService("weighted", port: 8012, annotations: Self.fast)
            try cluster.addService("panicky", port: 8013, annotations: failing)
        }
        do {
            try await mesh.start()
            #expect(await waitUntil(.seconds(10)) {
                let shares = await Self.frontend(mesh.east, "weighted")?.backends.filter { ($0.share ?? 0) > 0 }.map(\.cluster)
                return Set(shares ?? []) == ["east", "west", "north"]
            }, "east sees west's and north's backends")
            let spread = try await tallyBackends(mesh.east.frontend(8012), 1000)
            func share(_ cluster: String) -> Double {
                Double(spread.filter { $0.key.hasPrefix(cluster + "-") }.values.reduce(0, +)) / 1000
            }
            print("routing-policy e2e: cluster-weights east=3,west=1 over 1000 connections: \(spread.sorted { $0.key < $1.key })")
            #expect(abs(share("east") - 0.6) < 0.05, "\(spread)")
            #expect(abs(share("west") - 0.2) < 0.05, "\(spread)")
            #expect(abs(share("north") - 0.2) < 0.05, "\(spread)")
            let weighted = try await Mesh.interlink(["explain", "default/weighted", "--api", mesh.east.apiURL])
            #expect(weighted.contains("cluster-weights=east=3,west=1"), "\(weighted)")

            #expect(await waitUntil(.seconds(10)) { await Self.frontend(mesh.east, "panicky")?.panic == true }, "every check fails: panic")
            let served = await hammer(mesh.east.frontend(8013), for: .seconds(1))
            #expect(served.failures == 0, "panic serves every client: \(served.errors.prefix(3))")
            #expect(MeshCluster.clusters(of: served.tally) == ["east"], "the remote clusters export no unhealthy backend: \(served.tally)")
            let explained = try await Mesh.interlink(["explain", "default/panicky", "--api", mesh.east.apiURL])
            #expect(explained.contains("panic: no healthy backend anywhere, trying all 2"), "\(explained)")
            let metrics = try await Self.metrics(mesh.east)
            #expect(Self.sample(metrics, #"interlink_service_panic{service="default/panicky"}"#) == 1, "\(metrics.split(separator: "\n").filter { $0.contains("panic") })")
        } catch {
            await mesh.shutdown()
            throw error
        }
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }

    static func frontend(_ cluster: MeshCluster, _ service: String) async -> ServicesDocument.Frontend? {
        try? await cluster.services().services.first { $0.name == service }?.frontends.first
    }

    static func tierCount(_ cluster: MeshCluster, _ service: String) async -> Int {
        await frontend(cluster, service)?.tiers?.count ?? 0
    }

    static func tier(_ cluster: MeshCluster, _ service: String, _ label: String) async -> ServicesDocument.Tier? {
        await frontend(cluster, service)?.tiers?.first { $0.label == label }
    }

    /// Polls until the tier is shown as held by the failback delay.
    static func waitForHeld(_ cluster: MeshCluster, _ service: String, _ label: String) async -> Bool {
        await waitUntil(.seconds(20)) { await tier(cluster, service, label)?.held != nil }
    }

    /// The value of the sample `series` (name and labels as written) in Prometheus text.
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    static func metrics(_ cluster: MeshCluster) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: cluster.apiURL + "/metrics"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        return String(buffer: body)
    }
}
