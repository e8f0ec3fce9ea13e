import Foundation
import LatchTesting
import Testing

/// `GET /metrics` of `latch serve`: the reference MCP client calls tools through the gateway
/// (allowed, denied for three reasons, a tool error, a dying upstream) and completes its task;
/// the Prometheus text then counts exactly those decisions, upstream calls and errors, and grants.
@Suite("latch serve's /metrics")
struct MetricsInteropTests {
    /// One scrape: each series (`name{labels}`) and its value.
    struct Scrape {
        let text: String
        let series: [String: Double]

        init(_ text: String) {
            self.text = text
            var series: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                series[String(line[..<space])] = value
            }
            self.series = series
        }

        subscript(_ name: String) -> Double? { self.series[name] }
    }

    static func scrape(_ gateway: GatewayInteropTests.Gateway) async throws -> Scrape {
        let fetched = try await LatchProcess.run(
            [
                "-c",
                "import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1]); print(r.headers['Content-Type']); print(r.read().decode())",
                gateway.server.http + "/metrics",
            ],
            in: gateway.directory, executable: URL(fileURLWithPath: try InteropPython.interpreter()))
        try #require(fetched.status == 0, "GET /metrics failed: \(fetched.stderr)")
        let lines = fetched.stdout.split(separator: "\n", maxSplits: 1)
        #expect(lines.first?.hasPrefix("text/plain; version=0.0.4") == true, "content type: \(lines.first ?? "")")
        return Scrape(lines.count > 1 ? String(lines[1]) : "")
    }

    @Test("decisions by outcome and reason, decision, record and upstream latency, upstream errors by kind, and grants are counted")
    func countsCallsThroughTheGateway() async throws {
        let gateway = try await GatewayInteropTests.start()
        let before = try await Self.scrape(gateway)
        // Every configured series is there at zero before the first call.
        #expect(before[#"latch_gateway_decisions_total{outcome="allowed",reason="none"}"#] == 0, "\(before.text)")
        #expect(before[#"latch_gateway_decisions_total{outcome="denied",reason="policy_denied"}"#] == 0)
        #expect(before[#"latch_gateway_upstream_errors_total{upstream="mail",kind="unavailable"}"#] == 0)
        #expect(before[#"latch_gateway_upstream_seconds_count{upstream="crm"}"#] == 0)
        #expect(before[#"latch_grants_issued_total{kind="task"}"#] == 0)

        let steps = try await gateway.agent(
            """
            [{"op": "call", "tool": "files.read_file", "arguments": {"path": "public/readme.txt"}},
             {"op": "call", "tool": "files.read_file", "arguments": {"path": "public/missing.txt"}, "validate": false},
             {"op": "call", "tool": "crm.crm_lookup", "arguments": {"customer": "acme"}},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "eve@evil.test", "subject": "s", "body": "b"}},
             {"op": "call", "tool": "mail.http_fetch", "arguments": {"url": "https://example.com"}},
             {"op": "call", "tool": "files.list_files"},
             {"op": "call", "tool": "files.crash", "validate": false},
             {"op": "complete"}]
            """, protocol: "2026-07-28")
        try #require(steps.count == 8, "\(steps)")
        #expect(GatewayInteropTests.reason(steps[3]) == "destination_not_in_grant", "\(steps[3])")
        #expect(GatewayInteropTests.reason(steps[4]) == "unknown_tool", "\(steps[4])")
        #expect(GatewayInteropTests.reason(steps[5]) == "policy_error", "\(steps[5])")

        let after = try await Self.scrape(gateway)
        let expected: [String: Double] = [
            // read_file twice, crm_lookup and crash were allowed (what the upstream then did is its own count).
            #"latch_gateway_decisions_total{outcome="allowed",reason="none"}"#: 4,
            #"latch_gateway_decisions_total{outcome="denied",reason="destination_not_in_grant"}"#: 1,
            #"latch_gateway_decisions_total{outcome="denied",reason="unknown_tool"}"#: 1,
            #"latch_gateway_decisions_total{outcome="denied",reason="policy_error"}"#: 1,
            #"latch_gateway_decisions_total{outcome="denied",reason="policy_denied"}"#: 0,
            "latch_gateway_decision_seconds_count": 7,
            // A record per decision, and an outcome record for each of the 4 forwarded calls.
            "latch_gateway_record_seconds_count": 11,
            "latch_gateway_record_failures_total": 0,
            #"latch_gateway_upstream_seconds_count{upstream="files"}"#: 3,
            #"latch_gateway_upstream_seconds_count{upstream="crm"}"#: 1,
            #"latch_gateway_upstream_seconds_count{upstream="mail"}"#: 0,
            #"latch_gateway_upstream_errors_total{upstream="files",kind="tool_error"}"#: 1,
            #"latch_gateway_upstream_errors_total{upstream="files",kind="unavailable"}"#: 1,
            #"latch_gateway_upstream_errors_total{upstream="files",kind="rpc_error"}"#: 0,
            #"latch_gateway_upstream_errors_total{upstream="crm",kind="tool_error"}"#: 0,
            #"latch_grants_issued_total{kind="task"}"#: 1,
            #"latch_grants_issued_total{kind="delegated"}"#: 0,
            #"latch_grants_revoked_total{reason="completed"}"#: 1,
            #"latch_grants_revoked_total{reason="revoked"}"#: 0,
        ]
        for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(after[series] == value, "\(series)\n\(after.text)")
        }
        // Histograms: cumulative buckets ending in +Inf == count; the sums moved.
        #expect(after[#"latch_gateway_decision_seconds_bucket{le="+Inf"}"#] == 7)
        #expect((after["latch_gateway_decision_seconds_sum"] ?? 0) > 0)
        #expect(after[#"latch_gateway_upstream_seconds_bucket{upstream="files",le="+Inf"}"#] == 3)
        #expect((after[#"latch_gateway_upstream_seconds_sum{upstream="files"}"#] ?? 0) > 0)
        // No agent, task or tool names in labels.
        #expect(!after.text.contains("spiffe://") && !after.text.contains("read_file"), "\(after.text)")
        #expect(gateway.server.stop() == 0)
    }
}
