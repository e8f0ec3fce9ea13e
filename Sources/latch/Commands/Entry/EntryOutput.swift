import LatchCore
import LatchIdentity

/// How entries are printed: JSON (`show`, `create`, `list --json`) or an aligned table (`list`).
enum EntryOutput {
    static func json(_ entry: RegistrationEntry) -> JSONValue {
        .object([
            "id": .string(entry.id),
            "spiffe_id": .string(entry.spiffeID.description),
            "selectors": .array(entry.selectors.map { .string($0.description) }),
            "x509_svid_ttl": .int(entry.x509SVIDTTL),
            "jwt_svid_ttl": .int(entry.jwtSVIDTTL),
            "attributes": .object(entry.attributes.mapValues(Self.json)),
            "created_at": .int(entry.createdAt),
        ])
    }

    static func json(_ attribute: EntryAttribute) -> JSONValue {
        switch attribute {
        case .string(let s): .string(s)
        case .long(let i): .int(i)
        case .bool(let b): .bool(b)
        case .strings(let a): .array(a.map(JSONValue.string))
        }
    }

    static func table(_ entries: [RegistrationEntry]) -> String {
        let rows =
            [["ID", "SPIFFE ID", "SELECTORS"]]
            + entries.map { [$0.id, $0.spiffeID.description, $0.selectors.map(\.description).joined(separator: ",")] }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row[0].padding(widths[0]) + "  " + row[1].padding(widths[1]) + "  " + row[2] + "\n"
        }.joined()
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - self.count)) }
}
