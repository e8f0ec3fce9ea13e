import CedarPolicy
import Testing

/// Seeded mutations of valid extension literals: parsing never crashes, and whatever is accepted
/// prints as text that parses back to the same value. (The accept/reject split was checked against
/// cedarpy on the same kind of inputs while developing; the tables in ExtensionParsingTests pin it.)
@Suite("Extensions: mutated literals")
struct ExtensionMutationTests {
    struct Kind: Sendable, CustomTestStringConvertible {
        let name: String
        let seeds: [String]
        let alphabet: [Character]
        /// Parses, prints and re-parses; nil when the first parse rejects.
        let roundTrips: @Sendable (String) -> Bool?
        var testDescription: String { self.name }
    }

    static func check<T: Equatable & CustomStringConvertible>(_ parse: (String) throws(CedarError) -> T, _ text: String) -> Bool? {
        guard let v = try? parse(text) else { return nil }
        return (try? parse(v.description)) == v
    }

    static let kinds: [Kind] = [
        Kind(name: "decimal", seeds: ["1.0", "-12.3456", "922337203685477.5807"], alphabet: Array("0123456789.-+ e")) {
            check({ (s: String) throws(CedarError) in try CedarDecimal(parsing: s) }, $0)
        },
        Kind(name: "ipaddr", seeds: ["10.0.0.0/8", "::1", "fe80::1:2/64", "1:2:3:4:5:6:7:8"], alphabet: Array("0123456789abcdefABCDEF:./g %")) {
            check({ (s: String) throws(CedarError) in try IPAddr(parsing: s) }, $0)
        },
        Kind(
            name: "datetime", seeds: ["2024-10-15", "2024-10-15T11:35:00.123Z", "2024-02-29T23:59:59.999-2359"], alphabet: Array("0123456789-:TZ.+z ")
        ) {
            check({ (s: String) throws(CedarError) in try CedarDatetime(parsing: s) }, $0)
        },
        Kind(name: "duration", seeds: ["1d2h3m4s5ms", "-90m", "9223372036854775807ms"], alphabet: Array("0123456789dhms-+ .")) {
            check({ (s: String) throws(CedarError) in try CedarDuration(parsing: s) }, $0)
        },
    ]

    @Test("accepted mutations round-trip through description", arguments: kinds)
    func mutations(_ kind: Kind) {
        var rng = SplitMix64(seed: 42)
        var accepted = 0
        for _ in 0..<3000 {
            var chars = Array(kind.seeds[Int.random(in: 0..<kind.seeds.count, using: &rng)])
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let c = kind.alphabet[Int.random(in: 0..<kind.alphabet.count, using: &rng)]
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !chars.isEmpty: chars[Int.random(in: 0..<chars.count, using: &rng)] = c
                case 1: chars.insert(c, at: Int.random(in: 0...chars.count, using: &rng))
                default: if !chars.isEmpty { chars.remove(at: Int.random(in: 0..<chars.count, using: &rng)) }
                }
            }
            guard let ok = kind.roundTrips(String(chars)) else { continue }
            #expect(ok, "\(kind.name): \(String(chars).debugDescription)")
            accepted += 1
        }
        #expect(accepted > 50, "the mutations should keep some inputs valid")
    }
}
