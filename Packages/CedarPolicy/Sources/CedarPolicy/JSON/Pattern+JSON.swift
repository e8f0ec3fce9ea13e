extension Pattern {
    /// `[{"Literal": "a"}, "Wildcard", …]`, one element per character as Cedar writes it.
    public var json: JSONValue {
        .array(
            self.elements.map { element in
                switch element {
                case .wildcard: "Wildcard"
                case .literal(let c): ["Literal": .string(String(Character(c)))]
                }
            })
    }

    /// Reads a pattern array; a `Literal` may hold any number of characters.
    public init(json: JSONValue) throws(CedarError) {
        guard case .array(let items) = json else { throw CedarError(.json, "a `like` pattern must be an array") }
        var elements: [Element] = []
        for item in items {
            switch item {
            case .string("Wildcard"): elements.append(.wildcard)
            case .object(let o) where o.count == 1:
                guard case .string(let s)? = o["Literal"] else { throw CedarError(.json, "invalid `like` pattern element") }
                for scalar in s.unicodeScalars { elements.append(.literal(scalar)) }
            default: throw CedarError(.json, "invalid `like` pattern element")
            }
        }
        self.init(elements)
    }
}
