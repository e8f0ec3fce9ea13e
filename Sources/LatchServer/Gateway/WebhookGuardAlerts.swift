import AsyncHTTPClient
import LatchCore
import LatchGateway
import LatchIdentity
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// `guard_webhook`: each kill switch the guard trips is POSTed as JSON to one URL:
/// `{"event": "guard.kill", "task_id", "agent", "grant_id", "rules", "reason", "decision_id",
/// "time" (Unix ms), "revoked", "quarantined"}`. One attempt, 5 seconds at most, redirects not followed; a
/// failure is logged (the task is revoked whether or not anyone is told).
struct WebhookGuardAlerts: GuardAlertSink {
    let url: String
    let logger: Logger

    func killSwitchTripped(_ alert: GuardAlert) async {
        let body: JSONValue = .object([
            "event": .string("guard.kill"), "task_id": .string(alert.taskID), "agent": .string(alert.agent), "grant_id": .string(alert.grantID),
            "rules": .array(alert.rules.map(JSONValue.string)), "reason": .string(alert.reason), "decision_id": .string(alert.decisionID),
            "time": .int(alert.time), "revoked": .bool(alert.revoked),
            "quarantined": .bool(alert.quarantined),
        ])
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: HTTPMCPUpstream.clientConfiguration(connectTimeout: .seconds(5)))
        do {
            var request = HTTPClientRequest(url: self.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serializedBytes))
            let response = try await client.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 64 << 10)
            if !(200..<300).contains(response.status.code) {
                self.logger.warning("guard webhook answered \(response.status.code)", metadata: [LogKey.taskID: "\(alert.taskID)"])
            }
        } catch {
            self.logger.warning("guard webhook could not be told of a kill", metadata: [LogKey.taskID: "\(alert.taskID)", LogKey.error: "\(error)"])
        }
        try? await client.shutdown()
    }
}
