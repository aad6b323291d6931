/// How a backend is checked actively (`interlink.io/health-check*` annotations).
public struct HealthCheckSpec: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A TCP connect that succeeds within the timeout.
        case tcp
        /// An HTTP/1.1 GET of `path` answered with 2xx or 3xx within the timeout.
        case http(path: String)
        /// No active check: the EndpointSlice conditions are trusted.
        case none
    }

    public var kind: Kind
    public var interval: Duration
    public var timeout: Duration
    /// Consecutive good checks that bring a down backend up.
    public var rise: Int
    /// Consecutive bad checks that take an up backend down.
    public var fall: Int
    /// The backend port the check connects to (`interlink.io/health-check-port`); nil: the
    /// backend's own port. A UDP port is checked only with one: TCP or HTTP against it.
    public var port: UInt16?

    public static let defaultInterval = Duration.seconds(2)
    public static let defaultTimeout = Duration.seconds(1)
    public static let defaultRise = 2
    public static let defaultFall = 3

    public init(
        kind: Kind = .tcp, interval: Duration = defaultInterval, timeout: Duration = defaultTimeout,
        rise: Int = defaultRise, fall: Int = defaultFall
    ) {
        self.kind = kind
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
    }
}
