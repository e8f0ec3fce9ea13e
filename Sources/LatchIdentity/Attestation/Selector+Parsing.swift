public import LatchCore

extension Selector {
    /// Parses `TYPE:VALUE` (`unix:uid:1000` → type `unix`, value `uid:1000`).
    ///
    /// The type is non-empty `[a-z0-9_-]`; the value is non-empty, printable and without
    /// control characters. Throws `LatchError(.badSelector)`.
    public init(parsing text: some StringProtocol) throws(LatchError) {
        let string = String(text)
        guard let colon = string.firstIndex(of: ":") else {
            throw LatchError(.badSelector, "a selector is TYPE:VALUE, e.g. unix:uid:1000")
        }
        let type = String(string[..<colon])
        let value = String(string[string.index(after: colon)...])
        guard !type.isEmpty, type.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }) else {
            throw LatchError(.badSelector, "a selector type is non-empty lowercase [a-z0-9_-]")
        }
        guard !value.isEmpty else { throw LatchError(.badSelector, "a selector value cannot be empty") }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw LatchError(.badSelector, "a selector value has no control characters")
        }
        self.init(type: type, value: value)
    }
}

extension RegistrationEntry {
    /// Whether every selector of this entry is among `presented` (SPIRE's subset match).
    public func matches(_ presented: Set<Selector>) -> Bool {
        !self.selectors.isEmpty && self.selectors.allSatisfy(presented.contains)
    }
}
