@testable import InterlinkAgent
import InterlinkCore
import Testing

/// The one writer: every change is a new state with the next revision, published to every
/// subscriber; no change is lost however many sources write at once.
@Suite
struct RoutingWriterTests {
    @Test("every change advances the revision and reaches each subscriber; a passed check of a healthy backend publishes nothing")
    func revisionsAndSubscribers() async throws {
        let writer = Fixture.writer(Fixture.services(), clock: ManualClock())
        var first = writer.snapshots().makeAsyncIterator()
        var second = writer.snapshots().makeAsyncIterator()
        #expect(await first.next()?.revision == 0)
        #expect(await second.next()?.revision == 0)

        let key = BackendKey(service: Fixture.name, endpoint: Fixture.local(1))
        writer.record(.checkSucceeded, for: key)
        #expect(writer.current.revision == 0, "a passed check of a backend already up changes nothing a reader sees")
        writer.record(.passiveFailure(reason: "connection refused"), for: key)
        let down = try #require(await first.next())
        #expect(down.revision == 1)
        #expect(down.health[key]?.isUp == false)
        #expect(down.changeEvents(since: 0).last?.detail == "down: connection refused")
        #expect(await second.next()?.revision == 1)
    }

    @Test("an invalid annotation is refused with the annotation named, and nothing changes")
    func invalidAnnotation() throws {
        let writer = Fixture.writer(Fixture.services(), clock: ManualClock())
        #expect(throws: AnnotationErrors.self) { try writer.annotate(Fixture.name, ["interlink.io/min-healthy": "0"]) }
        #expect(writer.current.revision == 0)
        #expect(writer.current.spec(of: Fixture.name)?.routing.minimumHealthy == RoutingPolicy().minimumHealthy)
    }

    @Test("changes made by 200 tasks at once are all kept, each with a revision of its own")
    func concurrentChanges() async throws {
        let writer = Fixture.writer(Fixture.services(), clock: ManualClock())
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { _ = try? writer.annotate(Fixture.name, ["example.com/change-\(index)": "\(index)"]) }
            }
        }
        let annotations = try #require(writer.current.spec(of: Fixture.name)?.annotations)
        #expect((0..<200).allSatisfy { annotations["example.com/change-\($0)"] == "\($0)" })
        #expect(writer.current.revision == 200)
    }

    @Test("a remote cluster's update is marked for coalescing; a local change is urgent")
    func urgency() {
        let writer = Fixture.writer(Fixture.services(), clock: ManualClock())
        writer.updateRemote(Fixture.westCache(backends: 1))
        #expect(writer.current.urgentRevision == 0)
        #expect(writer.current.serviceRevisions[Fixture.name] == 1)
        writer.setDrained(Fixture.local(1), true)
        #expect(writer.current.urgentRevision == 2)
        #expect(writer.setDrained(Fixture.local(9), true) == nil, "an address no service has is not drained")
    }
}
