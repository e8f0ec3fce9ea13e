/// The few calls the JSON readers make into other parts of the engine (extension functions,
/// name parsing), kept in one place.
///
/// - Important: TEMPORARY bodies marked `PENDING(eval)` / `PENDING(parser)` stand in for the
///   evaluator's and parser's APIs until those branches land on main; they are replaced by calls
///   to `ExtensionFunction.apply`, `CedarDecimal(parsing:)`…, and `CedarParser.parseEntityType`.
enum JSONBridge {
    /// Applies the extension function called `name` (`decimal`, `ip`, `offset`, …) to `args`.
    static func callExtension(_ name: String, _ args: [Value]) throws(CedarError) -> Value {
        guard let fn = ExtensionFunction(rawValue: name) else {
            throw CedarError(.extensionError, "extension function `\(name)` does not exist")
        }
        guard args.count == fn.arity else {
            throw CedarError(.extensionError, "extension function `\(name)` takes \(fn.arity) argument(s), got \(args.count)")
        }
        return try PendingExtensions.apply(fn, args)  // PENDING(eval): try fn.apply(args)
    }

    /// The constructor name and argument text that rebuild `value` (`("decimal", "1.5")`).
    static func constructorText(_ value: ExtensionValue) -> (fn: String, arg: String) {
        PendingExtensions.text(value)  // PENDING(eval): use each type's `description`
    }

    /// Validates a qualified entity type name (`A::B`).
    static func entityType(_ name: String) throws(CedarError) -> EntityType {
        try PendingNames.entityType(name)  // PENDING(parser): CedarParser.parseEntityType(name)
    }

    /// Parses `Type::"id"` text.
    static func entityUID(_ text: String) throws(CedarError) -> EntityUID {
        try PendingNames.entityUID(text)  // PENDING(parser): CedarParser.parseEntityUID(text)
    }
}

/// The constructor function for each extension type name used in schemas.
extension JSONBridge {
    static func constructorName(forType type: String) -> String? {
        switch type {
        case "decimal": "decimal"
        case "ipaddr": "ip"
        case "datetime": "datetime"
        case "duration": "duration"
        default: nil
        }
    }
}
