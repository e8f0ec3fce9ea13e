/// Calling Cedar's extension functions and methods on values.
extension ExtensionFunction {
    /// Looks a function up by its Cedar name (`decimal`, `ip`, `lessThan`, `toDays`, ...).
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// Cedar's name for the function, as written in policies.
    public var name: String { self.rawValue }

    /// Applies the function to `args` (a method's receiver first).
    ///
    /// Throws `.typeError` on a wrong argument count or type, `.extensionError` on malformed
    /// constructor text, `.overflow` on arithmetic overflow.
    public func apply(_ args: [Value]) throws(CedarError) -> Value {
        guard args.count == self.arity else {
            throw CedarError(
                .typeError, "wrong number of arguments in extension function application: `\(self.rawValue)` expects \(self.arity), got \(args.count)")
        }
        switch self {
        case .decimal: return .ext(.decimal(try CedarDecimal(parsing: try Self.string(args[0]))))
        case .ip: return .ext(.ipaddr(try IPAddr(parsing: try Self.string(args[0]))))
        case .datetime: return .ext(.datetime(try CedarDatetime(parsing: try Self.string(args[0]))))
        case .duration: return .ext(.duration(try CedarDuration(parsing: try Self.string(args[0]))))
        case .lessThan: return .bool(try Self.decimal(args[0]) < Self.decimal(args[1]))
        case .lessThanOrEqual: return .bool(try Self.decimal(args[0]) <= Self.decimal(args[1]))
        case .greaterThan: return .bool(try Self.decimal(args[0]) > Self.decimal(args[1]))
        case .greaterThanOrEqual: return .bool(try Self.decimal(args[0]) >= Self.decimal(args[1]))
        case .isIpv4: return .bool(!(try Self.ipaddr(args[0])).isV6)
        case .isIpv6: return .bool(try Self.ipaddr(args[0]).isV6)
        case .isLoopback: return .bool(try Self.ipaddr(args[0]).isLoopback)
        case .isMulticast: return .bool(try Self.ipaddr(args[0]).isMulticast)
        case .isInRange: return .bool(try Self.ipaddr(args[0]).isInRange(try Self.ipaddr(args[1])))
        case .offset: return .ext(.datetime(try Self.datetime(args[0]).offset(by: try Self.duration(args[1]))))
        case .durationSince: return .ext(.duration(try Self.datetime(args[0]).durationSince(try Self.datetime(args[1]))))
        case .toDate: return .ext(.datetime(try Self.datetime(args[0]).toDate()))
        case .toTime: return .ext(.duration(try Self.datetime(args[0]).toTime()))
        case .toMilliseconds: return .long(try Self.duration(args[0]).toMilliseconds)
        case .toSeconds: return .long(try Self.duration(args[0]).toSeconds)
        case .toMinutes: return .long(try Self.duration(args[0]).toMinutes)
        case .toHours: return .long(try Self.duration(args[0]).toHours)
        case .toDays: return .long(try Self.duration(args[0]).toDays)
        }
    }

    private static func string(_ v: Value) throws(CedarError) -> String {
        guard case .string(let s) = v else { throw TypeCheck.mismatch("string", v) }
        return s
    }

    private static func decimal(_ v: Value) throws(CedarError) -> CedarDecimal {
        guard case .ext(.decimal(let d)) = v else { throw TypeCheck.mismatch("decimal", v) }
        return d
    }

    private static func ipaddr(_ v: Value) throws(CedarError) -> IPAddr {
        guard case .ext(.ipaddr(let a)) = v else { throw TypeCheck.mismatch("ipaddr", v) }
        return a
    }

    private static func datetime(_ v: Value) throws(CedarError) -> CedarDatetime {
        guard case .ext(.datetime(let d)) = v else { throw TypeCheck.mismatch("datetime", v) }
        return d
    }

    private static func duration(_ v: Value) throws(CedarError) -> CedarDuration {
        guard case .ext(.duration(let d)) = v else { throw TypeCheck.mismatch("duration", v) }
        return d
    }
}
