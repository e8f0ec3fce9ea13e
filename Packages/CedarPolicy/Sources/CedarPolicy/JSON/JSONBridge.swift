/// The few calls the JSON readers make into other parts of the engine (extension functions,
/// name parsing), kept in one place.
enum JSONBridge {
    /// Applies the extension function called `name` (`decimal`, `ip`, `offset`, …) to `args`.
    static func callExtension(_ name: String, _ args: [Value]) throws(CedarError) -> Value {
        guard let fn = ExtensionFunction(name: name) else {
            throw CedarError(.extensionError, "extension function `\(name)` does not exist")
        }
        return try fn.apply(args)
    }

    /// Validates a qualified entity type name (`A::B`), which must be written in normal form (no
    /// whitespace or comments), as Cedar requires in JSON.
    static func entityType(_ name: String) throws(CedarError) -> EntityType {
        let type = try CedarParser.parseEntityType(name)
        guard type.name == name else {
            throw CedarError(.json, "entity type name `\(name)` needs to be normalized (no whitespace or comments)")
        }
        return type
    }

    /// Parses `Type::"id"` text.
    static func entityUID(_ text: String) throws(CedarError) -> EntityUID {
        try CedarParser.parseEntityUID(text)
    }
}
