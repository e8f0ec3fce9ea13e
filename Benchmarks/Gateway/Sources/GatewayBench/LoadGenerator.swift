import AsyncHTTPClient
import Foundation
import LatchIdentity
import NIOCore
import NIOHTTP1

/// One MCP session of the load generator: where it sends, its headers, and (through Latch) the
/// grant and one pre-made DPoP proof per call.
struct BenchSession: Sendable {
    let url: String
    let tool: String
    let sessionID: String?
    /// `DPoP <grant>`; nil when calling the upstream directly.
    let authorization: String?
    var proofs: [String]
}

/// Per-call latencies (microseconds), the wall time of one round, and the CPU time it took.
struct RoundResult: Sendable {
    let calls: Int
    let seconds: Double
    let latencies: [Double]
    /// CPU seconds of this process in the round (the load generator, and Latch when it is called).
    var cpuSeconds: Double = 0
    /// CPU seconds of the upstream's process in the round (10 ms resolution).
    var upstreamCPUSeconds: Double = 0

    /// This process's CPU time per call, microseconds.
    var cpuPerCall: Double { self.cpuSeconds / Double(self.calls) * 1e6 }
    var upstreamCPUPerCall: Double { self.upstreamCPUSeconds / Double(self.calls) * 1e6 }

    var rate: Double { Double(self.calls) / self.seconds }
    func percentile(_ p: Double) -> Double {
        guard !self.latencies.isEmpty else { return .nan }
        return self.latencies[min(self.latencies.count - 1, Int((Double(self.latencies.count) * p).rounded(.down)))]
    }
}

struct BenchFailure: Error, CustomStringConvertible { let description: String }

enum LoadGenerator {
    static let protocolVersion = "2025-11-25"

    static func post(
        _ client: HTTPClient, url: String, body: String, sessionID: String?, authorization: String?, proof: String?
    ) async throws -> (status: UInt, headers: HTTPHeaders, body: ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        request.headers.add(name: "mcp-protocol-version", value: Self.protocolVersion)
        if let sessionID { request.headers.add(name: "mcp-session-id", value: sessionID) }
        if let authorization { request.headers.add(name: "authorization", value: authorization) }
        if let proof { request.headers.add(name: "dpop", value: proof) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, response.headers, bytes)
    }

    /// `initialize` then `notifications/initialized`; returns the session ID the server gave.
    /// `proofs` holds the two requests' DPoP proofs when calling through Latch.
    static func open(_ client: HTTPClient, url: String, authorization: String?, proofs: [String]?) async throws -> String? {
        let initialize =
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#
        let answer = try await Self.post(client, url: url, body: initialize, sessionID: nil, authorization: authorization, proof: proofs?[0])
        guard answer.status == 200 else {
            throw BenchFailure(description: "initialize answered \(answer.status): \(String(buffer: answer.body))")
        }
        let session = answer.headers.first(name: "mcp-session-id")
        let initialized = #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        let ack = try await Self.post(client, url: url, body: initialized, sessionID: session, authorization: authorization, proof: proofs?[1])
        guard ack.status == 202 else { throw BenchFailure(description: "notifications/initialized answered \(ack.status)") }
        return session
    }

    /// Runs every session at once, each making `calls` sequential `tools/call`s; checks every
    /// answer is a successful result.
    static func run(_ client: HTTPClient, sessions: [BenchSession], calls: Int) async throws -> RoundResult {
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for session in sessions {
                group.addTask {
                    var latencies: [Double] = []
                    latencies.reserveCapacity(calls)
                    for index in 0..<calls {
                        let body =
                            #"{"jsonrpc":"2.0","id":"# + String(index + 1)
                            + #","method":"tools/call","params":{"name":""# + session.tool + #"","arguments":{"text":"hello"}}}"#
                        let proof = session.authorization == nil ? nil : session.proofs[index]
                        let sent = ContinuousClock.now
                        let answer = try await Self.post(
                            client, url: session.url, body: body, sessionID: session.sessionID, authorization: session.authorization, proof: proof)
                        let elapsed = sent.duration(to: .now)
                        guard answer.status == 200, Self.isSuccess(answer.body) else {
                            throw BenchFailure(description: "tools/call answered \(answer.status): \(String(buffer: answer.body).prefix(300))")
                        }
                        latencies.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = start.duration(to: .now)
        return RoundResult(
            calls: latencies.count, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            latencies: latencies.sorted())
    }

    /// A JSON-RPC response with a `result` whose `isError` is false.
    static func isSuccess(_ body: ByteBuffer) -> Bool {
        guard let value = JSONValue(parsing: body.readableBytesView), let result = value["result"] else { return false }
        return result["isError"] == .bool(false)
    }
}
