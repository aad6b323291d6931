#if os(Linux)
import CInterlinkLinux
import Glibc

/// Moving bytes: each readable socket is read into the loop's scratch buffer and written
/// straight to its peer; only what the peer does not take at once is copied, into a pooled
/// chunk that pauses the reading side until the peer's EPOLLOUT. End of input becomes a
/// half-close of the peer once its pending bytes are out; the connection closes when both
/// directions have ended, or at once on an error.
extension EpollWorker {
    mutating func socketEvent(_ fd: Int32, events: UInt32) {
        let generation = slots[Int(fd)].generation
        let failed = events & (CInterlinkEpollErr | CInterlinkEpollHup) != 0
        if slots[Int(fd)].connecting {
            if failed { return dialFailed(fd, code: socketError(fd)) }
            guard events & CInterlinkEpollOut != 0 else { return }
            connected(fd)
            guard slots[Int(fd)].generation == generation else { return }
        } else if events & CInterlinkEpollOut != 0 || failed {
            slots[Int(fd)].writable = true
            if slots[Int(fd)].hasPending {
                flushPending(fd)
                guard slots[Int(fd)].generation == generation else { return }
            }
        }
        if events & (CInterlinkEpollIn | CInterlinkEpollRdHup) != 0 || failed {
            slots[Int(fd)].readable = true
            if events & CInterlinkEpollRdHup != 0 || failed { slots[Int(fd)].hangupSeen = true }
        }
        guard slots[Int(fd)].readable else { return }
        pump(from: fd)
        // A reset socket whose peer is still full would otherwise wait for that peer.
        if events & CInterlinkEpollErr != 0, slots[Int(fd)].generation == generation, slots[Int(fd)].readable {
            closeConnection(fd)
        }
    }

    /// Reads `source` and writes to its peer until the source is drained, the peer is full,
    /// or the source has had its turn.
    mutating func pump(from source: Int32) {
        var reads = 0
        while slots[Int(source)].readable {
            let target = slots[Int(source)].peer
            // No upstream (between dials) or a full peer: resumed when that changes.
            guard target >= 0, !slots[Int(target)].hasPending, !slots[Int(target)].outputShut else { return }
            let count = recv(source, scratch, Self.scratchSize, 0)
            if count > 0 {
                let client = slots[Int(source)].role == .client ? source : target
                slots[Int(client)].lastActive = now
                slots[Int(source)].unreported += count
                if slots[Int(source)].unreported >= Self.reportEvery { reportBytes(source) }
                // A short read drained the socket: more data brings a new edge. Not so for an end of
                // input already signalled with this data: it must still be read.
                if count < Self.scratchSize, !slots[Int(source)].hangupSeen { slots[Int(source)].readable = false }
                if slots[Int(target)].connecting {
                    hold(scratch, count, for: target)
                    return sendEarly(target)
                }
                let upstream = slots[Int(source)].role == .upstream ? source : target
                if slots[Int(upstream)].probing { confirm(upstream) }
                let sent = send(target, scratch, count, Int32(MSG_NOSIGNAL))
                if sent < count {
                    let code = sent < 0 ? errno : EAGAIN
                    guard code == EAGAIN || code == EINTR else { return closeConnection(source) }
                    hold(scratch + max(sent, 0), count - max(sent, 0), for: target)
                    slots[Int(target)].writable = false
                    return
                }
                reads += 1
                if reads == Self.readsPerTurn, slots[Int(source)].readable {
                    deferred.append((source, slots[Int(source)].generation))
                    return
                }
            } else if count == 0 {
                slots[Int(source)].readable = false
                slots[Int(source)].inputEnded = true
                return inputEnded(source)
            } else {
                let code = errno
                if code == EAGAIN {
                    slots[Int(source)].readable = false
                } else if code != EINTR {
                    return socketFailed(source, code: code)
                }
            }
        }
    }

    /// Copies bytes the target could not take into its pending chunk.
    mutating func hold(_ bytes: UnsafeMutableRawPointer, _ count: Int, for target: Int32) {
        let chunk = slots[Int(target)].pending ?? takeChunk()
        let end = slots[Int(target)].pending == nil ? 0 : slots[Int(target)].pendingEnd
        // A pending chunk exists only while its socket's peer is not read, so it never
        // receives more than one read's worth on top of what it holds.
        (chunk + end).copyMemory(from: bytes, byteCount: count)
        if slots[Int(target)].pending == nil { slots[Int(target)].pendingStart = 0 }
        slots[Int(target)].pending = chunk
        slots[Int(target)].pendingEnd = end + count
    }

    /// Writes a socket's pending bytes; when they are all out, half-closes it if asked and
    /// resumes reading its peer.
    mutating func flushPending(_ fd: Int32) {
        guard let chunk = slots[Int(fd)].pending else { return }
        let start = slots[Int(fd)].pendingStart, end = slots[Int(fd)].pendingEnd
        let sent = send(fd, chunk + start, end - start, Int32(MSG_NOSIGNAL))
        if sent < 0 {
            let code = errno
            if code == EAGAIN || code == EINTR {
                slots[Int(fd)].writable = false
                return
            }
            return closeConnection(fd)
        }
        if sent < end - start {
            slots[Int(fd)].pendingStart = start + sent
            slots[Int(fd)].writable = false
            return
        }
        slots[Int(fd)].pending = nil
        releaseChunk(chunk)
        let client = slots[Int(fd)].role == .client ? fd : slots[Int(fd)].peer
        slots[Int(client)].lastActive = now
        if slots[Int(fd)].shutWhenFlushed { shutOutput(fd) }
        let peer = slots[Int(fd)].peer
        if peer >= 0, slots[Int(peer)].readable {
            let generation = slots[Int(fd)].generation
            pump(from: peer)
            guard slots[Int(fd)].generation == generation else { return }
        }
        if peer >= 0, slots[Int(peer)].inputEnded, !slots[Int(fd)].outputShut, !slots[Int(fd)].shutWhenFlushed {
            forwardEnd(to: fd)
        }
    }

    /// `source` will send nothing more.
    mutating func inputEnded(_ source: Int32) {
        let target = slots[Int(source)].peer
        if slots[Int(source)].role == .upstream, slots[Int(source)].probing {
            // Closed before any byte: another backend can still take the connection.
            return giveUp(source, failure: nil)
        }
        guard target >= 0 else { return }
        // The client's end waits while its backend is being dialled or confirmed.
        if slots[Int(target)].connecting || slots[Int(target)].probing { return }
        forwardEnd(to: target)
    }

    /// Half-closes `target` (after its pending bytes); closes the connection once both ways
    /// have ended.
    mutating func forwardEnd(to target: Int32) {
        if slots[Int(target)].inputEnded, !slots[Int(target)].hasPending {
            // Both ways have ended and nothing is left to write: close(2) sends the FIN that a
            // shutdown would (one system call less per connection).
            return closeConnection(target)
        }
        if slots[Int(target)].hasPending {
            slots[Int(target)].shutWhenFlushed = true
        } else {
            shutOutput(target)
        }
    }

    mutating func shutOutput(_ fd: Int32) {
        slots[Int(fd)].shutWhenFlushed = false
        if !slots[Int(fd)].outputShut {
            slots[Int(fd)].outputShut = true
            shutdown(fd, Int32(SHUT_WR))
        }
        let peer = slots[Int(fd)].peer
        if peer >= 0, slots[Int(peer)].outputShut, slots[Int(fd)].inputEnded, slots[Int(peer)].inputEnded {
            closeConnection(fd)
        }
    }

    /// A read failed (a reset, usually).
    mutating func socketFailed(_ fd: Int32, code: Int32) {
        if slots[Int(fd)].role == .upstream, slots[Int(fd)].probing {
            return giveUp(fd, failure: .reset(errnoText(code)))
        }
        closeConnection(fd)
    }

    /// The backend connection is in use: what the client ended meanwhile goes on.
    mutating func confirm(_ upstream: Int32) {
        slots[Int(upstream)].probing = false
        let client = slots[Int(upstream)].peer
        if slots[Int(client)].inputEnded { forwardEnd(to: upstream) }
    }

    /// Closes both sockets of the connection `fd` belongs to, after one last try to write
    /// what each still holds.
    mutating func closeConnection(_ fd: Int32) {
        let isClient = slots[Int(fd)].role == .client
        let client = isClient ? fd : slots[Int(fd)].peer
        let upstream = isClient ? slots[Int(fd)].peer : fd
        if upstream >= 0, slots[Int(upstream)].role == .upstream {
            reportBytes(upstream)
            if slots[Int(upstream)].opened { slots[Int(client)].backend?.stats.connectionClosed() }
            closeSocket(upstream)
        }
        if client >= 0, slots[Int(client)].role == .client {
            reportBytes(client)
            closeSocket(client)
            context.open.wrappingDecrement(ordering: .relaxed)
        }
    }

    private mutating func closeSocket(_ fd: Int32) {
        if let chunk = slots[Int(fd)].pending {
            _ = send(fd, chunk + slots[Int(fd)].pendingStart, slots[Int(fd)].pendingEnd - slots[Int(fd)].pendingStart, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            releaseChunk(chunk)
        }
        close(fd)  // leaves the epoll set with it: no EPOLL_CTL_DEL
        slots[Int(fd)].reset()
    }

    /// Adds the bytes read from `fd` to its backend's counters.
    mutating func reportBytes(_ fd: Int32) {
        let count = slots[Int(fd)].unreported
        guard count > 0 else { return }
        slots[Int(fd)].unreported = 0
        let isClient = slots[Int(fd)].role == .client
        let client = isClient ? fd : slots[Int(fd)].peer
        guard client >= 0 else { return }
        slots[Int(client)].backend?.stats.addBytes(count, fromClient: isClient)
    }

    mutating func takeChunk() -> UnsafeMutableRawPointer {
        chunks.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    mutating func releaseChunk(_ chunk: UnsafeMutableRawPointer) {
        if chunks.count < 64 { chunks.append(chunk) } else { chunk.deallocate() }
    }
}
#endif
