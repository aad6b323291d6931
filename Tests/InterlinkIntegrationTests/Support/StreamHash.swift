import NIOCore

/// FNV-1a over a byte stream, fed in chunks: enough to prove two streams are identical.
struct StreamHash: Equatable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private(set) var count = 0

    mutating func update(_ raw: UnsafeRawBufferPointer) {
        var v = value
        if let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            for index in 0..<raw.count {
                v ^= UInt64(base[index])
                v &*= 0x0000_0100_0000_01B3
            }
        }
        value = v
        count += raw.count
    }

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    mutating func update(_ text: String) {
        var copy = text
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }
}
