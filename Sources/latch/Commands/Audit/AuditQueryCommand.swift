import ArgumentParser
import Foundation
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer

/// `latch audit query [--agent] [--task] [--grant] [--tool] [--decision] [--reason] [--since] [--until] [--trace]
/// [--argument NAME=VALUE …] [--prompt TEXT] [--limit] [--json]`
struct AuditQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Find decision records by agent, task, grant, tool, decision, reason, time range or trace ID.",
        discussion: """
            Every filter given must match (text compares exactly). Times are ISO 8601 (2026-11-29T21:30:00Z, with \
            optional fraction or offset, or a date 2026-11-29 meaning its UTC midnight) or relative to now: 90s, 15m, \
            1h, 7d, 2w ago. --since is inclusive, --until exclusive. Lines as latch audit list prints them, newest first \
            (--oldest-first to reverse); with --json, a JSON array of {ledger_index, record}. --argument NAME=VALUE \
            and --prompt TEXT keep the records whose keyed hashes match that value (VALUE read as JSON when it is JSON, \
            and as a string), as latch audit show tests one record: records hold no values in clear, so these need the \
            KEK, and they are checked on the records the other filters found, a page at a time.
            """
    )

    @OptionGroup var server: ServerOptions
    @Option(help: "The agent holding the grant (SPIFFE ID).") var agent: String?
    @Option(help: "The task ID.") var task: String?
    @Option(help: "The grant ID (jti).") var grant: String?
    @Option(help: "The namespaced tool (upstream.tool).") var tool: String?
    @Option(help: "allowed or denied.") var decision: String?
    @Option(help: "The denial reason code (e.g. policy_denied).") var reason: String?
    @Option(help: "Not before this time (ISO 8601, or relative: 1h, 30m, 7d).") var since: String?
    @Option(help: "Before this time (ISO 8601, or relative).") var until: String?
    @Option(help: "The W3C trace ID.") var trace: String?
    @Option(name: .customLong("argument"), help: "NAME=VALUE: only records holding VALUE as their argument NAME (repeatable).")
    var arguments: [String] = []
    @Option(help: "TEXT: only records whose prompt is exactly TEXT.") var prompt: String?
    @Option(help: "At most this many records.") var limit = 50
    @Flag(name: .customLong("oldest-first"), help: "Oldest first instead of newest first.") var oldestFirst = false
    @Flag(help: "Print a JSON array of {ledger_index, record} instead of lines.") var json = false

    func run() async throws {
        guard self.limit > 0 else { throw ValidationError("--limit must be positive") }
        let now = SystemWallClock().now().milliseconds
        var allowed: Bool?
        switch self.decision {
        case nil: allowed = nil
        case "allowed"?: allowed = true
        case "denied"?: allowed = false
        case let other?: throw ValidationError("--decision must be allowed or denied, not \"\(AuditOutput.printable(other))\"")
        }
        let query = DecisionRecordQuery(
            agent: self.agent, taskID: self.task, grantID: self.grant, tool: self.tool, allowed: allowed, reason: self.reason,
            since: try self.since.map { try AuditTime.parse($0, now: now, option: "--since") },
            until: try self.until.map { try AuditTime.parse($0, now: now, option: "--until") }, traceID: self.trace,
            order: self.oldestFirst ? .oldestFirst : .newestFirst, limit: self.limit)
        let probes = try AuditValueProbe.parse(self.arguments)
        let prompt = self.prompt
        let configuration = try self.server.configuration()
        let found = try await self.server.withStore { store in
            guard !probes.isEmpty || prompt != nil else { return try await store.decisionRecords(matching: query) }
            // Keyed hashes match only with the key: filter a page at a time until `limit` match.
            let privacy = RecordPrivacy(ledgerKey: try await AuditKeys.ledgerKey(store: store, configuration: configuration))
            var page = query
            page.limit = 500
            var matched: [IndexedDecisionRecord] = []
            while matched.count < query.limit {
                let records = try await store.decisionRecords(matching: page)
                for found in records where AuditValueProbe.matches(found.record, probes: probes, prompt: prompt, privacy: privacy) {
                    matched.append(found)
                    if matched.count == query.limit { break }
                }
                guard records.count == page.limit, let last = records.last else { break }
                page.after = DecisionRecordQuery.Cursor(after: last.record)
            }
            return matched
        }
        if self.json {
            print(JSONValue.array(found.map(AuditOutput.json)).serialized)
        } else {
            print(AuditOutput.lines(found.map(\.record)), terminator: "")
        }
    }
}

/// Values an investigator types to match records' keyed hashes (`audit show`, `audit query`).
enum AuditValueProbe {
    /// `NAME=VALUE` options as pairs.
    static func parse(_ options: [String]) throws -> [(name: String, value: String)] {
        try options.map { option in
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex else { throw ValidationError("--argument must be NAME=VALUE") }
            return (String(option[..<equals]), String(option[option.index(after: equals)...]))
        }
    }

    /// Whether `record` holds every probed argument value and, if given, the prompt.
    static func matches(_ record: DecisionRecord, probes: [(name: String, value: String)], prompt: String?, privacy: RecordPrivacy) -> Bool {
        if let prompt, !privacy.matches(record, prompt: prompt) { return false }
        return probes.allSatisfy { privacy.matches(record, argument: $0.name, typed: $0.value) }
    }
}

/// Times given to `latch audit`: ISO 8601 or relative to now.
enum AuditTime {
    /// Milliseconds since the epoch for `text`: `<n>ms|s|m|h|d|w` (that long before `now`), an
    /// ISO 8601 date-time with `Z` or an offset (fraction optional), or a date (its UTC midnight).
    static func parse(_ text: String, now: Int64, option: String) throws -> Int64 {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(digits) else { continue }
            let (product, overflow) = amount.multipliedReportingOverflow(by: scale)
            guard !overflow else { break }
            return now - product
        }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        for formatter in [withFraction, plain, day] {
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        throw ValidationError("\(option): \"\(AuditOutput.printable(String(text.prefix(64))))\" is neither ISO 8601 nor relative (1h, 30m, 7d)")
    }
}
