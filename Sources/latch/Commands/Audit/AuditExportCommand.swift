import ArgumentParser
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer

/// `latch audit export [--format jsonl|ocsf] [--since] [--until] [--output FILE]`
struct AuditExportCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, ocsf
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the ledger's records as JSON lines or OCSF events, in ledger order.",
        discussion: """
            jsonl: one line per record, {"leaf_hash": base64, "ledger_index": N, "record": {…}}, where record is the \
            stored bytes as they are (RFC 8785 JSON), so SHA-256(0x00 ‖ record) is leaf_hash. ocsf: one OCSF API \
            Activity event (class 6003) per line; the mapping is in the README. --since/--until (ISO 8601 or relative, \
            as for query) keep the records of that time range. Reads the ledger a page at a time and writes as it goes.
            """
    )

    @OptionGroup var server: ServerOptions
    @Option(help: "jsonl or ocsf.") var format: Format = .jsonl
    @Option(help: "Not before this time (ISO 8601, or relative: 1h, 30m, 7d).") var since: String?
    @Option(help: "Before this time (ISO 8601, or relative).") var until: String?
    @Option(help: "Write to this file (created mode 0600, replaced if it exists) instead of standard output.") var output: String?

    static let pageSize = 1_000

    func run() async throws {
        let now = SystemWallClock().now().milliseconds
        let since = try self.since.map { try AuditTime.parse($0, now: now, option: "--since") }
        let until = try self.until.map { try AuditTime.parse($0, now: now, option: "--until") }
        let handle: FileHandle
        if let output = self.output {
            let descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw ValidationError("--output: cannot create \(output) (errno \(errno))") }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        } else {
            handle = FileHandle.standardOutput
        }
        let format = self.format
        let sink = ExportSink(handle: handle)
        let exported = try await self.server.withStore { store in
            var next: Int64 = 0
            var count = 0
            while true {
                let page = try await store.ledgerEntries(from: next, limit: Self.pageSize)
                var out: [UInt8] = []
                for entry in page {
                    guard let json = JSONValue(parsing: entry.bytes), let record = try? DecisionRecord(json: json) else {
                        throw LatchError(.internalError, "ledger entry \(entry.index) is not a decision record: run latch audit verify")
                    }
                    if let since, record.time < since { continue }
                    if let until, record.time >= until { continue }
                    switch format {
                    case .jsonl:
                        out += Array("{\"leaf_hash\":\"\(Base64URL.encodeStandard(entry.leafHash))\",\"ledger_index\":\(entry.index),\"record\":".utf8)
                        out += entry.bytes
                        out += Array("}\n".utf8)
                    case .ocsf:
                        out += OCSFEvent.apiActivity(record, ledgerIndex: entry.index, leafHash: entry.leafHash).serializedBytes
                        out.append(UInt8(ascii: "\n"))
                    }
                    count += 1
                }
                try sink.write(out)
                guard let last = page.last, page.count == Self.pageSize else { break }
                next = last.index + 1
            }
            return count
        }
        if self.output != nil { PolicyCommand.writeError("exported \(exported) records") }
    }
}

/// Where an export goes; writes whole pages.
private struct ExportSink: @unchecked Sendable {
    // A FileHandle written from one task at a time (the export loop).
    let handle: FileHandle

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try self.handle.write(contentsOf: Data(bytes))
    }
}

/// Decision records as OCSF events (schema 1.3.0): API Activity, class 6003 in category 6
/// (Application Activity). The README ("Export") documents the mapping.
enum OCSFEvent {
    static let schemaVersion = "1.3.0"

    /// Keys of the record JSON the event maps elsewhere; the rest go to `unmapped` (the sealed
    /// prompt and arguments never do: only the store's key opens them, so a SIEM has no use for
    /// them, and they are not exported).
    private static let mappedKeys: Set<String> = [
        "id", "time", "agent", "grant_id", "method", "tool", "allowed", "reason", "message", "policies", "destination", "trace_id",
        "latency_us", "prompt_sealed", "arguments_sealed",
    ]

    static func apiActivity(_ record: DecisionRecord, ledgerIndex: Int64, leafHash: [UInt8]) -> JSONValue {
        let activityID: Int64 = 99  // Other: a tool call is none of Create, Read, Update, Delete.
        var unmapped = record.json.objectValue ?? [:]
        for key in Self.mappedKeys { unmapped[key] = nil }
        unmapped["ledger_index"] = .int(ledgerIndex)
        unmapped["leaf_hash"] = .string(Base64URL.encodeStandard(leafHash))
        var metadata: [String: JSONValue] = [
            "version": .string(Self.schemaVersion),
            "product": .object(["name": .string("Latch"), "vendor_name": .string("Latch")]),
            "uid": .string(record.id), "log_name": .string("decision_records"), "sequence": .int(ledgerIndex),
            "profiles": .array([.string("security_control")]),
        ]
        if let trace = record.traceID { metadata["correlation_uid"] = .string(trace) }
        var event: [String: JSONValue] = [
            "class_uid": .int(6003), "class_name": .string("API Activity"), "category_uid": .int(6),
            "category_name": .string("Application Activity"), "activity_id": .int(activityID), "activity_name": .string(record.method),
            "type_uid": .int(6003 * 100 + activityID), "type_name": .string("API Activity: Other"),
            "time": .int(record.time), "severity_id": .int(record.allowed ? 1 : 3), "severity": .string(record.allowed ? "Informational" : "Medium"),
            "metadata": .object(metadata),
            "actor": .object([
                "user": .object(["uid": .string(record.agent), "type_id": .int(99), "type": .string("Workload")]),
                "session": .object(["uid": .string(record.grantID)]),
            ]),
            "api": .object([
                "operation": .string(record.tool ?? record.method), "request": .object(["uid": .string(record.id)]),
                "service": .object(["name": .string(record.method)]),
            ]),
            "src_endpoint": .object(["uid": .string(record.agent)]),
            "status_id": .int(record.allowed ? 1 : 2), "status": .string(record.allowed ? "Success" : "Failure"),
            "action_id": .int(record.allowed ? 1 : 2), "action": .string(record.allowed ? "Allowed" : "Denied"),
            "disposition_id": .int(record.allowed ? 1 : 2), "disposition": .string(record.allowed ? "Allowed" : "Blocked"),
            "duration": .int(record.latencyMicros / 1_000),
            "unmapped": .object(unmapped),
        ]
        if let reason = record.reason { event["status_detail"] = .string(reason) }
        if let message = record.message { event["message"] = .string(message) }
        if let first = record.policies.first {
            event["policy"] = .object([
                "uid": .string(first), "name": .string(first),
                "desc": .string("determining policies: " + record.policies.joined(separator: ", ")),
            ])
        }
        if let destination = record.destination { event["dst_endpoint"] = .object(["svc_name": .string(destination)]) }
        return .object(event)
    }
}
