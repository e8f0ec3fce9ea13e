import ArgumentParser
import Foundation
import LatchCore
import LatchIdentity
import LatchServer

/// `latch entry create --spiffe-id ID --selector TYPE:KEY:VALUE… [--x509-svid-ttl S] [--jwt-svid-ttl S] [--attribute K=V…]`
struct EntryCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Register a SPIFFE ID for workloads presenting all the given selectors.",
        discussion: """
            Selectors are TYPE:VALUE, e.g. unix:uid:1000, unix:gid:0, unix:path:/usr/bin/agent, \
            unix:sha256:<hex>, k8s:ns:payments. A workload gets the ID when it presents every selector. \
            Attributes are operator-set facts that later become Cedar entity attributes: \
            KEY=TEXT for a string, KEY:=JSON for a number, true/false, or an array of strings. \
            Prints the new entry as JSON.
            """
    )

    @OptionGroup var server: ServerOptions

    @Option(name: .customLong("spiffe-id"), help: "The SPIFFE ID to issue, in the configured trust domain.")
    var spiffeID: String

    @Option(name: .customLong("selector"), help: "TYPE:VALUE; repeat for several (all must match).")
    var selectors: [String] = []

    @Option(name: .customLong("x509-svid-ttl"), help: "X.509-SVID lifetime in seconds (capped by the CA). Default 3600.")
    var x509SVIDTTL: Int64 = 3600

    @Option(name: .customLong("jwt-svid-ttl"), help: "JWT-SVID lifetime in seconds (capped by the signing key). Default 300.")
    var jwtSVIDTTL: Int64 = 300

    @Option(name: .customLong("attribute"), help: "KEY=TEXT or KEY:=JSON; repeat for several.")
    var attributes: [String] = []

    @Option(name: .long, help: "Entry ID (default: a new random UUID).")
    var id: String?

    func run() async throws {
        let configuration = try self.server.configuration()
        let entry = try self.entry(trustDomain: configuration.trustDomain)
        try await self.server.withStore { store in try await store.createEntry(entry) }
        print(EntryOutput.json(entry).serialized)
    }

    /// Validates every flag before the store is touched: bad input changes nothing.
    func entry(trustDomain: TrustDomain) throws -> RegistrationEntry {
        let spiffeID: SPIFFEID
        do { spiffeID = try SPIFFEID(parsing: self.spiffeID) } catch { throw ValidationError("--spiffe-id: \(error.message)") }
        guard spiffeID.trustDomain == trustDomain else {
            throw ValidationError("--spiffe-id: \(spiffeID) is not in the trust domain \(trustDomain)")
        }
        guard !spiffeID.path.isEmpty else { throw ValidationError("--spiffe-id: a workload ID needs a path (\(spiffeID) names the trust domain)") }
        guard !self.selectors.isEmpty else { throw ValidationError("at least one --selector is required") }
        var selectors: [Selector] = []
        for text in self.selectors {
            do { selectors.append(try Selector(parsing: text)) } catch { throw ValidationError("--selector \(text): \(error.message)") }
        }
        guard (1...31_536_000).contains(self.x509SVIDTTL), (1...31_536_000).contains(self.jwtSVIDTTL) else {
            throw ValidationError("TTLs are seconds between 1 and 31536000")
        }
        var attributes: [String: EntryAttribute] = [:]
        for text in self.attributes {
            let (key, value) = try Self.attribute(text)
            guard attributes.updateValue(value, forKey: key) == nil else { throw ValidationError("--attribute \(key) given twice") }
        }
        let id = self.id ?? UUID().uuidString.lowercased()
        guard !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ValidationError("--id must be 1–128 printable ASCII characters without spaces")
        }
        return RegistrationEntry(
            id: id, spiffeID: spiffeID, selectors: selectors, x509SVIDTTL: self.x509SVIDTTL, jwtSVIDTTL: self.jwtSVIDTTL,
            attributes: attributes, createdAt: SystemWallClock().now().milliseconds)
    }

    /// `KEY=TEXT` (a string) or `KEY:=JSON` (a number, a boolean, or an array of strings).
    static func attribute(_ text: String) throws -> (String, EntryAttribute) {
        guard let equals = text.firstIndex(of: "=") else { throw ValidationError("--attribute \(text): expected KEY=TEXT or KEY:=JSON") }
        var key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        let typed = key.hasSuffix(":")
        if typed { key.removeLast() }
        guard !key.isEmpty, key.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }),
            let first = key.utf8.first, !(0x30...0x39).contains(first)
        else {
            throw ValidationError("--attribute \(text): the key must be a Cedar identifier in lowercase ([a-z_][a-z0-9_]*)")
        }
        guard typed else { return (key, .string(value)) }
        switch JSONValue(parsing: Array(value.utf8)) {
        case .bool(let b): return (key, .bool(b))
        case .int(let i): return (key, .long(i))
        case .array(let items):
            let strings = items.compactMap(\.stringValue)
            guard strings.count == items.count else { throw ValidationError("--attribute \(key): arrays hold strings only") }
            return (key, .strings(strings))
        default:
            throw ValidationError("--attribute \(key):=…: expected an integer, true/false, or an array of strings in JSON")
        }
    }
}
