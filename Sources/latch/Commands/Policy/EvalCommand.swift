import ArgumentParser
import CedarPolicy

/// `latch policy eval --policies P --entities E [--schema S] --requests R`: authorize a stream of
/// requests, one JSON object per line, writing one JSON answer per line in the same order.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Authorize a stream of JSON requests against policies and entities.",
        discussion: """
            Each line of the requests file is a request: \
            {"principal":{"type":…,"id":…},"action":{…},"resource":{…},"context":{…}}. \
            Each output line, in the same order, is {"decision":"allow"|"deny","reason":[ids],"errors":[ids]} \
            with policy IDs sorted, or {"error":"…"} for a line that is not a valid request; the rest still run. \
            Policy IDs are policy0, policy1, … by position in Cedar text, or the IDs of a .json policy set. \
            With --schema, entities and requests are checked against it. \
            Exits 1 if the policies, entities or schema cannot be read.
            """
    )

    @Option(help: "Policies: Cedar text, or a .json policy set.")
    var policies: String

    @Option(help: "Entities JSON file.")
    var entities: String

    @Option(help: "Schema (.cedarschema text, or .json) to check entities and requests against.")
    var schema: String?

    @Option(help: "Requests, one JSON object per line (JSON Lines); - for standard input.")
    var requests: String

    func run() throws {
        let engine: RequestStream
        do throws(CommandFailure) {
            let schema = try self.schema.map { path throws(CommandFailure) in try PolicyCommand.loadSchema(path) }
            let policies = try PolicyCommand.loadPolicySet(self.policies)
            let entities = try PolicyCommand.loadEntities(self.entities, schema: schema)
            engine = RequestStream(authorizer: Authorizer(policies), entities: entities, schema: schema)
            let input = try LineReader(path: self.requests)
            var output = OutputBuffer(fd: 1)
            try engine.run(input: input, output: &output)
            output.flush()
        } catch {
            PolicyCommand.writeError(error.message)
            throw ExitCode(1)
        }
    }
}
