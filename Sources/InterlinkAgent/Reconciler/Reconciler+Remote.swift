import InterlinkCore
import InterlinkMesh

/// What connected clusters export, into the routes: coalesced publication of their changes.
extension Reconciler {
    /// Replaces what a connected cluster exports; republishes the local services whose share
    /// from that cluster changed.
    public func updateRemote(_ cache: RemoteServiceCache) {
        let previous = remotes[cache.cluster]?.services ?? [:]
        remotes[cache.cluster] = cache
        publishChanged(from: previous, to: cache.services, cluster: cache.cluster, kind: "remote-update")
    }

    /// Forgets a disconnected cluster: its backends leave every service.
    public func removeRemote(_ cluster: ClusterName) {
        guard let previous = remotes.removeValue(forKey: cluster) else { return }
        publishChanged(from: previous.services, to: [:], cluster: cluster, kind: "remote-removed")
        pruneStats()
    }

    private func publishChanged(from old: [ServiceName: RemoteService], to new: [ServiceName: RemoteService], cluster remote: ClusterName, kind: String) {
        func count(_ entry: RemoteService?) -> Int {
            guard let entry, entry.isShared else { return 0 }
            return Set(entry.backends.values.flatMap { $0.map(\.endpoint) }).count
        }
        for service in services where old[service.spec.name] != new[service.spec.name] {
            pendingRemote[service.spec.name, default: []].append(
                (kind, remote, "\(remote) now offers \(count(new[service.spec.name])) backends (was \(count(old[service.spec.name])))", .now))
        }
        guard !pendingRemote.isEmpty else { return }
        lastRemoteArrival = .now
        guard !flushScheduled else { return }
        let sinceLast = ContinuousClock.now - lastRemoteFlush
        // The window grows with the cost of a publication, so that a burst (many clusters
        // syncing at once) spends at most about a fifth of the time republishing; once the
        // burst is over (no change for `remoteQuiet`), what is pending is published at once.
        let window = max(Self.remoteCoalescing, lastRemoteFlushCostPerService * (4 * pendingRemote.count))
        if sinceLast >= window {
            flushRemoteChanges()
        } else {
            flushScheduled = true
            let deadline = lastRemoteFlush + window
            Task {
                while ContinuousClock.now < min(deadline, lastRemoteArrival + Self.remoteQuiet) {
                    try? await Task.sleep(until: min(deadline, lastRemoteArrival + Self.remoteQuiet))
                }
                flushRemoteChanges()
            }
        }
    }

    /// Publishes the services that remote changes touched, and records why.
    private func flushRemoteChanges() {
        flushScheduled = false
        let start = ContinuousClock.now
        let pending = pendingRemote
        defer {
            lastRemoteFlush = .now
            lastRemoteFlushCostPerService = (lastRemoteFlush - start) / max(1, pending.count)
        }
        pendingRemote = [:]
        for service in services {
            guard let reasons = pending[service.spec.name] else { continue }
            proxy.publish(routes(of: service))
            let published = ContinuousClock.now
            for (kind, remote, detail, arrived) in reasons {
                changes.record(kind, service: "\(service.spec.name)", cluster: "\(remote)", detail: detail)
                observers.remoteApplied(published - arrived)
            }
        }
    }
}
