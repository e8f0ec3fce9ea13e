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
                .typeError, "wrong number of arguments in extension function application: `\(self.rawValue)` expects \(self.arity), got \(args.count)"
            )
        }
        return args.count == 1 ? try self.apply1(args[0]) : try self.apply2(args[0], args[1])
    }

    /// `apply` for one-argument functions, without building an array.
    func apply1(_ a: Value) throws(CedarError) -> Value {
        guard self.arity == 1 else { throw self.arityError(1) }
        switch self {
        case .decimal: return .ext(.decimal(try CedarDecimal(parsing: try Self.string(a))))
        case .ip: return .ext(.ipaddr(try IPAddr(parsing: try Self.string(a))))
        case .datetime: return .ext(.datetime(try CedarDatetime(parsing: try Self.string(a))))
        case .duration: return .ext(.duration(try CedarDuration(parsing: try Self.string(a))))
        case .isIpv4: return .bool(!(try Self.ipaddr(a)).isV6)
        case .isIpv6: return .bool(try Self.ipaddr(a).isV6)
        case .isLoopback: return .bool(try Self.ipaddr(a).isLoopback)
        case .isMulticast: return .bool(try Self.ipaddr(a).isMulticast)
        case .toDate: return .ext(.datetime(try Self.datetime(a).toDate()))
        case .toTime: return .ext(.duration(try Self.datetime(a).toTime()))
        case .toMilliseconds: return .long(try Self.duration(a).toMilliseconds)
        case .toSeconds: return .long(try Self.duration(a).toSeconds)
        case .toMinutes: return .long(try Self.duration(a).toMinutes)
        case .toHours: return .long(try Self.duration(a).toHours)
        case .toDays: return .long(try Self.duration(a).toDays)
        default: throw self.arityError(1)
        }
    }

    /// `apply` for two-argument functions, without building an array.
    func apply2(_ a: Value, _ b: Value) throws(CedarError) -> Value {
        guard self.arity == 2 else { throw self.arityError(2) }
        switch self {
        case .lessThan: return .bool(try Self.decimal(a) < Self.decimal(b))
        case .lessThanOrEqual: return .bool(try Self.decimal(a) <= Self.decimal(b))
        case .greaterThan: return .bool(try Self.decimal(a) > Self.decimal(b))
        case .greaterThanOrEqual: return .bool(try Self.decimal(a) >= Self.decimal(b))
        case .isInRange: return .bool(try Self.ipaddr(a).isInRange(try Self.ipaddr(b)))
        case .offset: return .ext(.datetime(try Self.datetime(a).offset(by: try Self.duration(b))))
        case .durationSince: return .ext(.duration(try Self.datetime(a).durationSince(try Self.datetime(b))))
        default: throw self.arityError(2)
        }
    }

    private func arityError(_ got: Int) -> CedarError {
        CedarError(.typeError, "wrong number of arguments in extension function application: `\(self.rawValue)` expects \(self.arity), got \(got)")
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
