/// Go-style duration text, as Kubernetes and Cilium users write it: `500ms`, `2s`, `1m30s`, `1.5h`.
///
/// At most `maximum` (one year): a longer value is refused rather than overflowing, whatever
/// field it is for; each field then checks its own, narrower range.
public enum DurationText {
    public static let maximum = Duration.seconds(365 * 24 * 3600)
    public static let allowed = "a duration such as 500ms, 2s, 1m30s or 1h, at most 8760h"

    public static func parse(_ text: String) throws(InvalidValue) -> Duration {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { throw InvalidValue(text, allowed: allowed) }
        var total = Duration.zero
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard number.count <= 32, let value = Double(number), value.isFinite else { throw InvalidValue(text, allowed: allowed) }
            let seconds: Double
            switch unit {
            case "ms": seconds = value / 1000
            case "s": seconds = value
            case "m": seconds = value * 60
            case "h": seconds = value * 3600
            default: throw InvalidValue(text, allowed: allowed)
            }
            // Checked before converting: Int64(Double) traps on values past 2^63 ns (292 years).
            let limit = Double(maximum.components.seconds)
            guard seconds <= limit, Double(total.components.seconds) + seconds <= limit else {
                throw InvalidValue(text, allowed: allowed)
            }
            total += .nanoseconds(Int64((seconds * 1e9).rounded()))
        }
        // Exact, where the check above is in whole seconds (found by FuzzDuration: 5ms8760h).
        guard total <= maximum else { throw InvalidValue(text, allowed: allowed) }
        return total
    }

    /// The shortest text that `parse` reads back to `duration` (ms precision).
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        return "\(ms / 1000)s"
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
