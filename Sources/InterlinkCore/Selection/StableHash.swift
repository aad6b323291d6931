/// A 64-bit hash that is the same in every process and on every agent (unlike `Hasher`,
/// which is seeded per process): FNV-1a over the bytes, then the MurmurHash3 finaliser to
/// spread the bits. Maglev tables must agree across agents, so they use this.
public enum StableHash {
    public static func hash<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64) -> UInt64 where Bytes.Element == UInt8 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
        return mix(value)
    }

    public static func mix(_ input: UInt64) -> UInt64 {
        var k = input
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
