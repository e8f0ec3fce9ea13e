import LatchGateway
import LatchIdentity

/// How `latch tool` prints pins.
enum ToolOutput {
    /// One line per pin, columns aligned: upstream, tool, status, the digest's first 12 hex
    /// digits, first seen. Control characters (an upstream chooses its tool names) are escaped.
    static func table(_ pins: [ToolPin]) -> String {
        let rows =
            [["UPSTREAM", "TOOL", "STATUS", "DIGEST", "FIRST SEEN"]]
            + pins.map { pin in
                [pin.upstream, pin.tool, pin.status.rawValue, ToolPinning.shortDigest(pin.digest), AuditOutput.iso8601(milliseconds: pin.firstSeen)]
                    .map(AuditOutput.printable)
            }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<4).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  " + row[4] + "\n"
        }.joined()
    }

    /// A pin without its definition, as `latch tool list --json` prints it.
    static func summary(_ pin: ToolPin) -> JSONValue {
        .object([
            "upstream": .string(pin.upstream), "tool": .string(pin.tool), "status": .string(pin.status.rawValue), "digest": .string(pin.digest),
            "first_seen": .int(pin.firstSeen), "accepted_at": pin.acceptedAt.map(JSONValue.int) ?? .null,
            "accepted_by": pin.acceptedBy.map(JSONValue.string) ?? .null,
        ])
    }

    /// A pin with its definition, as `latch tool show` prints it.
    static func detail(_ pin: ToolPin) -> JSONValue {
        guard case .object(var object) = Self.summary(pin) else { return .null }
        object["upstream"] = nil
        object["tool"] = nil
        object["status"] = nil
        object["definition"] = pin.definition
        return .object(object)
    }

    /// JSON indented by two spaces, one member or element per line, keys sorted (as the
    /// canonical form sorts them), so definitions diff line by line; characters that a terminal
    /// would act on or hide (DEL and C1 controls, zero-width and bidirectional marks) written as
    /// `\uXXXX` escapes, so a reviewer sees every character the upstream wrote.
    static func reviewable(_ value: JSONValue) -> String {
        var out = ""
        for scalar in Self.indented(value).unicodeScalars {
            switch scalar.value {
            case 0x7F...0x9F, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func indented(_ value: JSONValue, depth: Int = 0) -> String {
        let pad = String(repeating: "  ", count: depth + 1)
        let close = String(repeating: "  ", count: depth)
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { pad + Self.indented($0, depth: depth + 1) }.joined(separator: ",\n") + "\n" + close + "]"
        case .object(let members) where !members.isEmpty:
            let sorted = members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            return "{\n"
                + sorted.map { pad + JSONValue.string($0.key).serialized + ": " + Self.indented($0.value, depth: depth + 1) }.joined(separator: ",\n")
                + "\n" + close + "}"
        default:
            return value.serialized
        }
    }
}
