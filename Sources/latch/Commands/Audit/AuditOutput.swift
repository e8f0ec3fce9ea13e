import LatchGateway
import LatchIdentity

/// How `latch audit` prints decision records.
enum AuditOutput {
    /// One line per record, columns aligned: time, `allowed`/`denied`, reason, agent, tool, task,
    /// decision ID. Control characters (an agent chooses its tool names) are shown escaped, so a
    /// record is always one line and never drives the terminal.
    static func lines(_ records: [DecisionRecord]) -> String {
        let cells = records.map { record in
            [
                Self.iso8601(milliseconds: record.time), record.allowed ? "allowed" : "denied", record.reason ?? "-", record.agent,
                record.tool ?? "-", record.taskID, record.id,
            ].map(Self.printable)
        }
        guard let columns = cells.first?.count else { return "" }
        let widths = (0..<columns - 1).map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { row in
            (0..<columns - 1).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  "
                + row[columns - 1] + "\n"
        }.joined()
    }

    /// `2023-11-14T22:13:20.456Z`: milliseconds since the epoch as an ISO 8601 UTC time
    /// (proleptic Gregorian calendar; years before 1 or after 9999 are written with more digits
    /// or a sign, as ISO 8601's expanded form).
    static func iso8601(milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = Self.floorDivide(milliseconds, 86_400_000)
        // Days to a civil date (H. Hinnant's algorithm), counting eras of 400 years from 0000-03-01.
        let shifted = days + 719_468
        let (era, _) = Self.floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let yearText = (0...9_999).contains(year) ? Self.padded(year, 4) : (year < 0 ? "-" : "+") + Self.padded(year.magnitude, 6)
        let (hour, minute, second, millisecond) = (
            dayMilliseconds / 3_600_000, dayMilliseconds / 60_000 % 60, dayMilliseconds / 1_000 % 60, dayMilliseconds % 1_000
        )
        return "\(yearText)-\(Self.padded(month, 2))-\(Self.padded(day, 2))T\(Self.padded(hour, 2)):\(Self.padded(minute, 2))"
            + ":\(Self.padded(second, 2)).\(Self.padded(millisecond, 3))Z"
    }

    /// Quotient rounded toward negative infinity, and the non-negative remainder.
    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func padded(_ value: some BinaryInteger, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `text` with control characters (C0, DEL, C1) written as `\u{…}`, backslashes doubled.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else if scalar == "\\" {
                out += "\\\\"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension AuditOutput {
    /// `{ledger_index, record}` (`ledger_index` null for a record stored before the ledger existed).
    static func json(_ indexed: IndexedDecisionRecord) -> JSONValue {
        .object(["ledger_index": indexed.ledgerIndex.map(JSONValue.int) ?? .null, "record": indexed.record.json])
    }
}
