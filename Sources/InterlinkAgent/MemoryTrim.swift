import InterlinkProxy
import ServiceLifecycle

/// Gives memory back to the system after a burst of connections: glibc's allocator keeps the
/// pages freed connections leave behind, so without this the agent's RSS stays at the peak of
/// the busiest minute. Every `interval`, if open connections fell to under half of the most
/// seen since the last trim, `malloc_trim(0)` returns the free pages (a few milliseconds).
struct MemoryTrim: Service {
    let proxy: any ProxyDataPlane
    var interval: Duration = .seconds(10)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var peak = 0
            while (try? await Task.sleep(for: interval)) != nil {
                let open = proxy.openConnections
                peak = max(peak, open)
                guard peak >= 64, open < peak / 2 else { continue }
                #if os(Linux)
                _ = malloc_trim(0)
                #endif
                peak = open
            }
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim` (malloc.h, which the Glibc module leaves out).
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
#endif
