import ArgumentParser
import LatchIdentity
import LatchWorkloadProto

/// `latch api validate-jwt --audience A --token T [--socket S]`
struct APIValidateJWTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-jwt", abstract: "Validate a JWT-SVID through the Workload API; print its SPIFFE ID.")

    @Option(help: "Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else latch-data/public/workload.sock).")
    var socket: String?

    @Option(help: "The audience the token must carry.")
    var audience: String

    @Option(help: "The JWT-SVID (compact JWS), or - to read it from standard input (keeps it out of the process list).")
    var token: String

    func run() async throws {
        var request = Workload_ValidateJWTSVIDRequest()
        request.audience = self.audience
        request.svid = self.token == "-" ? (readLine(strippingNewline: true) ?? "") : self.token
        let message = request
        let response = try await APICommand.withClient(socket: self.socket) { client in
            try await client.validateJWTSVID(message, metadata: APICommand.header, options: APICommand.timeout)
        }
        print(JSONValue.object(["spiffe_id": .string(response.spiffeID)]).serialized)
    }
}
