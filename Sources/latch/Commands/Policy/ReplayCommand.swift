import ArgumentParser
import CedarPolicy
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer

/// `latch policy replay --policies PATH --since TIME [--until TIME] [--json]`
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-decide recorded tool calls under candidate policies and print every decision that would change.",
        discussion: """
            Reads the decision records in [--since, --until) from the configured store, and re-decides each one Cedar \
            made (allowed, or denied policy_denied / policy_error; scope, pin, guard and malformed-call denials are \
            counted as skipped) under the policies at --policies, with the facts the record kept, the grant as \
            stored, the agents' current registration attributes and the tools' labels in the current configuration. \
            Arguments come from the record when the gateway kept them (gateway_keep_arguments; opening them needs the \
            KEK); otherwise policies do not see context.arguments, and a call on which any policy then fails to \
            evaluate is reported undecidable, never guessed. Prints one line per changed decision (record ID, time, \
            agent, tool, old -> new, determining policies), the undecidable ones, and a summary; --json prints \
            {changes, undecidable, summary}. TIME is ISO 8601 (2026-11-29T21:00:00Z) or a duration ago (30m, 24h, 7d).
            """
    )

    @OptionGroup var server: ServerOptions
    @Option(help: "The candidate policies: a .cedar file or a directory of them.") var policies: String
    @Option(help: "Replay records from this time (ISO 8601, or a duration ago such as 24h).") var since: String
    @Option(help: "Replay records before this time (default: now).") var until: String?
    @Flag(help: "Print JSON instead of lines.") var json = false

    func run() async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard let since = Self.parseTime(self.since, now: now) else {
            throw ValidationError("--since must be an ISO 8601 time or a duration such as 24h")
        }
        var end: Int64?
        if let text = self.until {
            guard let parsed = Self.parseTime(text, now: now) else {
                throw ValidationError("--until must be an ISO 8601 time or a duration such as 1h")
            }
            end = parsed
        }
        let until = end
        let candidate: PolicySet
        do { candidate = try PolicyReplay.loadPolicies(at: self.policies) } catch {
            PolicyCommand.writeError("error: \(error.message)")
            throw ExitCode(1)
        }
        let configuration = try self.server.configuration()
        let report = try await self.server.withStore { store in
            // Kept arguments open with the ledger key; without a KEK they count as not kept.
            let privacy = try? await RecordPrivacy(ledgerKey: AuditKeys.ledgerKey(store: store, configuration: configuration))
            return try await PolicyReplay.run(
                store: store, policies: candidate, configuration: configuration, privacy: privacy, since: since, until: until)
        }
        if self.json {
            print(Self.jsonReport(report).serialized)
        } else {
            print(Self.lines(report), terminator: "")
        }
    }

    static func lines(_ report: PolicyReplay.Report) -> String {
        var out = ""
        for change in report.changes {
            let policies = change.policies.isEmpty ? "(no policy)" : change.policies.joined(separator: ",")
            out +=
                [
                    change.recordID, AuditOutput.iso8601(milliseconds: change.time), change.agent, change.tool,
                    "\(change.old.rawValue) -> \(change.new.rawValue)", policies,
                ].map(AuditOutput.printable).joined(separator: "  ") + "\n"
        }
        for (id, reason) in report.undecidable { out += AuditOutput.printable("\(id)  undecidable: \(reason)") + "\n" }
        out +=
            "replayed \(report.replayed), changed \(report.changes.count), unchanged \(report.unchanged), skipped \(report.skipped), "
            + "undecidable \(report.undecidable.count)\n"
        return out
    }

    static func jsonReport(_ report: PolicyReplay.Report) -> LatchIdentity.JSONValue {
        let changes = report.changes.map { change in
            LatchIdentity.JSONValue.object([
                "id": .string(change.recordID), "time": .int(change.time), "agent": .string(change.agent), "tool": .string(change.tool),
                "old": .string(change.old.rawValue), "new": .string(change.new.rawValue),
                "policies": .array(change.policies.map(LatchIdentity.JSONValue.string)),
                "reason": change.reason.map(LatchIdentity.JSONValue.string) ?? .null,
            ])
        }
        let undecidable = report.undecidable.map { LatchIdentity.JSONValue.object(["id": .string($0.recordID), "reason": .string($0.reason)]) }
        return .object([
            "changes": .array(changes), "undecidable": .array(undecidable),
            "summary": .object([
                "replayed": .int(Int64(report.replayed)), "changed": .int(Int64(report.changes.count)), "unchanged": .int(Int64(report.unchanged)),
                "skipped": .int(Int64(report.skipped)), "undecidable": .int(Int64(report.undecidable.count)),
            ]),
        ])
    }

    /// Milliseconds since the epoch: an ISO 8601 UTC time (`2026-11-29T21:00:00Z`, fractional
    /// seconds allowed, or an offset), or a duration before `now`.
    static func parseTime(_ text: String, now: Int64) -> Int64? {
        if let duration = ServerConfiguration.parseDuration(text) {
            let (seconds, attoseconds) = duration.components
            return now - seconds * 1000 - attoseconds / 1_000_000_000_000_000
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
