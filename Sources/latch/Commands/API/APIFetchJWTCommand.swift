import ArgumentParser
import LatchIdentity
import LatchWorkloadProto

/// `latch api fetch-jwt --audience A… [--spiffe-id ID] [--socket S]`
struct APIFetchJWTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-jwt", abstract: "Fetch JWT-SVIDs for an audience; print one JSON line {spiffe_id, token} per SVID.")

    @Option(help: "Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else latch-data/public/workload.sock).")
    var socket: String?

    @Option(name: .customLong("audience"), help: "Audience; repeat for several.")
    var audience: [String] = []

    @Option(name: .customLong("spiffe-id"), help: "Only the SVID for this SPIFFE ID.")
    var spiffeID: String?

    func run() async throws {
        var request = Workload_JWTSVIDRequest()
        request.audience = self.audience
        request.spiffeID = self.spiffeID ?? ""
        let message = request
        let response = try await APICommand.withClient(socket: self.socket) { client in
            try await client.fetchJWTSVID(message, metadata: APICommand.header, options: APICommand.timeout)
        }
        for svid in response.svids {
            print(JSONValue.object(["spiffe_id": .string(svid.spiffeID), "token": .string(svid.svid)]).serialized)
        }
    }
}
