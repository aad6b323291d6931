@testable import InterlinkAgent
import InterlinkCore
@testable import InterlinkProxy
import Testing

/// The data-plane reconciler against a recording data plane and a manual clock: what it
/// publishes, when, and what it keeps. Time moves only when a test advances it.
@Suite(.timeLimit(.minutes(1)))
struct RouteReconcilerTests {
    struct Running {
        let clock = ManualClock()
        let target = RecordingTarget()
        let writer: RoutingWriter
        let reconciler: RouteReconciler
        let task: Task<Void, Never>

        init(_ services: [LocalService]) async throws {
            writer = Fixture.writer(services, clock: clock)
            reconciler = RouteReconciler(writer: writer, target: target, clock: clock, logger: Fixture.logger)
            try await reconciler.start()
            let reconciler = self.reconciler
            task = Task { try? await reconciler.run() }
        }

        /// Waits until the run loop is asleep on the clock (its tick), so that a change made
        /// now is seen by a loop that is running.
        func idle() async -> Bool {
            await eventually { clock.sleeperCount >= 1 }
        }

        func stop() async {
            task.cancel()
            await task.value
        }
    }

    static func share(of cluster: ClusterName, _ reconciler: RouteReconciler) -> Double? {
        reconciler.view.plans[Fixture.frontend]?.clusterShares[cluster]
    }

    @Test("start binds every frontend and publishes its routes before the first connection")
    func startBindsAndPublishes() async throws {
        let running = try await Running(Fixture.services(backends: 2))
        guard case .listen(let bound) = running.target.calls.first else {
            Issue.record("the first call binds the frontends: \(running.target.calls)")
            return
        }
        #expect(bound == [Fixture.frontend])
        #expect(running.target.backends() == [Fixture.local(1), Fixture.local(2)])
        await running.stop()
    }

    @Test("a frontend that cannot be bound fails start, naming it")
    func bindFailure() async throws {
        let writer = Fixture.writer(Fixture.services(), clock: ManualClock())
        let reconciler = RouteReconciler(writer: writer, target: RecordingTarget(refusing: [Fixture.frontend]), logger: Fixture.logger)
        await #expect { try await reconciler.start() } throws: { "\($0)".contains("127.0.60.10:80") }
    }

    @Test("a local health change is applied at once; remote updates within the window are coalesced into one publication")
    func coalescing() async throws {
        let running = try await Running(Fixture.services(backends: 2, annotations: [ServiceAnnotations.global: "true"]))
        #expect(await running.idle())
        let before = running.target.publications
        running.writer.updateRemote(Fixture.westCache(backends: 1))
        running.writer.updateRemote(Fixture.westCache(backends: 2))
        try await Task.sleep(for: .milliseconds(50))  // let the loop run: it must wait for the clock
        #expect(running.target.publications == before, "no publication before the 50 ms window ends")
        running.clock.advance(by: .milliseconds(50))
        #expect(await eventually { running.target.backends().contains(Fixture.remote(2)) })
        #expect(running.target.publications == before + 1, "both updates in one publication")

        let revision = running.writer.current.revision
        running.writer.record(.passiveFailure(reason: "refused"), for: BackendKey(service: Fixture.name, endpoint: Fixture.local(1)))
        await running.reconciler.waitApplied(revision + 1)
        #expect(!running.target.backends().contains(Fixture.local(1)), "applied without the clock moving")
        await running.stop()
    }

    @Test("a remote backend whose dial failed is out of rotation for 10 s of the clock, then back")
    func ejectionEndsByTime() async throws {
        let running = try await Running(Fixture.services(backends: 1, annotations: [ServiceAnnotations.global: "true"]))
        running.writer.updateRemote(Fixture.westCache(backends: 2))
        running.clock.advance(by: .milliseconds(50))
        #expect(await eventually { running.target.backends().count == 3 })
        running.writer.recordPassiveFailure(service: Fixture.name, backend: Fixture.remote(1), reason: "connection refused")
        #expect(await eventually { running.target.backends() == [Fixture.local(1), Fixture.remote(2)] })
        #expect(running.reconciler.view.servicesDocument(now: .now).services[0].frontends[0].backends.contains { $0.healthDetail?.contains("ejected") == true })
        for _ in 0..<9 {
            #expect(await running.idle())
            running.clock.advance(by: .seconds(1))
        }
        #expect(!running.target.backends().contains(Fixture.remote(1)), "still ejected after 9 s")
        #expect(await eventually {
            if running.clock.sleeperCount >= 1 { running.clock.advance(by: .seconds(1)) }
            return running.target.backends().contains(Fixture.remote(1))
        }, "back after 10 s")
        await running.stop()
    }

    @Test("failback: a recovered local tier is held for the delay, then its share ramps up")
    func failbackDelayAndRamp() async throws {
        let annotations = [
            ServiceAnnotations.global: "true", ServiceAnnotations.affinity: "local",
            ServiceAnnotations.failbackDelay: "30s", ServiceAnnotations.failbackRamp: "60s",
        ]
        let running = try await Running(Fixture.services(backends: 1, annotations: annotations))
        running.writer.updateRemote(Fixture.westCache(backends: 1))
        running.clock.advance(by: .milliseconds(50))
        #expect(await eventually { Self.share(of: Fixture.east, running.reconciler) == 1 })

        let key = BackendKey(service: Fixture.name, endpoint: Fixture.local(1))
        running.writer.record(.passiveFailure(reason: "refused"), for: key)
        #expect(await eventually { running.target.backends() == [Fixture.remote(1)] })
        for _ in 0..<5 { running.writer.record(.checkSucceeded, for: key) }
        #expect(running.writer.current.health[key]?.isUp == true)
        await running.reconciler.settle()
        #expect(Self.share(of: Fixture.west, running.reconciler) == 1, "held: west keeps everything")
        let held = running.reconciler.view.plans[Fixture.frontend]?.tiers.first { $0.label == "local" }?.held
        #expect(held?.contains("failback delay") == true, "\(String(describing: held))")

        // 30 s later the delay is over and the ramp starts; half-way through it, about half.
        #expect(await running.idle())
        running.clock.advance(by: .seconds(30))
        #expect(await running.idle())
        running.clock.advance(by: .seconds(30))
        #expect(await eventually { (Self.share(of: Fixture.east, running.reconciler) ?? 0) > 0.4 })
        #expect((Self.share(of: Fixture.east, running.reconciler) ?? 0) < 0.6)
        #expect(await running.idle())
        running.clock.advance(by: .seconds(31))
        #expect(await eventually { Self.share(of: Fixture.east, running.reconciler) == 1 })
        await running.stop()
    }

    @Test("a change can wait until the data plane runs on it")
    func readYourWrites() async throws {
        let running = try await Running(Fixture.services(backends: 2))
        let revision = try #require(running.writer.setDrained(Fixture.local(1), true))
        await running.reconciler.waitApplied(revision)
        #expect(running.target.backends() == [Fixture.local(2)])
        await running.stop()
    }

    @Test("counters go with their backends, ClientIP tables with sessionAffinity")
    func pruning() async throws {
        let clientIP = "  sessionAffinity: ClientIP"
        let running = try await Running(Fixture.services(backends: 3, extraSpec: clientIP))
        let keys = (1...3).map { BackendKey(service: Fixture.name, endpoint: Fixture.local($0)) }
        let kept = try #require(running.reconciler.view.counters(keys[0]))
        #expect(running.reconciler.view.counters(keys[2]) != nil)
        #expect(running.target.route()?.affinity != nil)

        await running.reconciler.waitApplied(running.writer.replaceServices(Fixture.services(backends: 2, extraSpec: clientIP), reason: "test"))
        #expect(running.reconciler.view.counters(keys[2]) == nil, "the removed backend's counters are gone")
        #expect(running.reconciler.view.counters(keys[0]) === kept, "the others keep theirs")

        await running.reconciler.waitApplied(running.writer.replaceServices(Fixture.services(backends: 2), reason: "test"))
        #expect(running.target.route()?.affinity == nil, "sessionAffinity None: no longer sticky")
        await running.stop()
    }
}
