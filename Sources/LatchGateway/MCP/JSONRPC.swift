public import LatchIdentity

/// JSON-RPC 2.0 as MCP uses it: one message per HTTP body (no batches).
public enum JSONRPC {
    public static let parseError: Int64 = -32700
    public static let invalidRequest: Int64 = -32600
    public static let methodNotFound: Int64 = -32601
    public static let invalidParams: Int64 = -32602
    public static let internalError: Int64 = -32603
    /// MCP 2026-07-28: HTTP headers do not match the body, or are duplicated or malformed.
    public static let headerMismatch: Int64 = -32020
    /// MCP 2026-07-28: the requested protocol version is not served.
    public static let unsupportedProtocolVersion: Int64 = -32022
    /// Latch: the call was denied (`data.reason` is a ``DenialReason`` code, `data.policies`
    /// the determining policies). In the implementation-defined range -32000…-32019.
    public static let callDenied: Int64 = -32010
    /// Latch: the request carries no valid grant and proof (sent with HTTP 401).
    public static let notAuthenticated: Int64 = -32011
    /// Latch: the upstream serving the tool could not answer.
    public static let upstreamUnavailable: Int64 = -32012
    /// Latch: the upstream answered with a JSON-RPC error (`data.upstream` holds its code and
    /// message, at most 512 characters).
    public static let upstreamError: Int64 = -32013

    /// A request or notification received from an agent.
    public struct Message: Sendable {
        /// The request's id (a string or an integer); nil for a notification.
        public let id: JSONValue?
        public let method: String
        public let params: [String: JSONValue]

        /// Parses one JSON-RPC request or notification; throws the JSON-RPC error to answer.
        public init(parsing body: [UInt8]) throws(Failure) {
            guard let value = JSONValue(parsing: body) else {
                throw Failure(code: JSONRPC.parseError, message: "the body is not JSON (or nests deeper than 32)")
            }
            guard case .object(let object) = value else {
                throw Failure(code: JSONRPC.invalidRequest, message: "the body must be one JSON-RPC object (batches are not supported)")
            }
            let id = object["id"]
            switch id {
            case nil, .string?, .int?: break
            default: throw Failure(code: JSONRPC.invalidRequest, message: "id must be a string or an integer")
            }
            guard object["jsonrpc"] == .string("2.0") else { throw Failure(code: JSONRPC.invalidRequest, message: "jsonrpc must be \"2.0\"", id: id) }
            guard let method = object["method"]?.stringValue, !method.isEmpty else {
                throw Failure(code: JSONRPC.invalidRequest, message: "a request needs a method (responses are not accepted here)", id: id)
            }
            switch object["params"] {
            case nil: self.params = [:]
            case .object(let params)?: self.params = params
            default: throw Failure(code: JSONRPC.invalidRequest, message: "params must be an object", id: id)
            }
            self.id = id
            self.method = method
        }
    }

    /// A JSON-RPC error to send back.
    public struct Failure: Error, Sendable {
        public var code: Int64
        public var message: String
        public var data: JSONValue?
        public var id: JSONValue?

        public init(code: Int64, message: String, data: JSONValue? = nil, id: JSONValue? = nil) {
            self.code = code
            self.message = message
            self.data = data
            self.id = id
        }
    }

    /// The response carrying `result`: the bytes of `{"id", "jsonrpc", "result"}` serialized as
    /// ``JSONValue`` does (keys sorted), written without building the envelope object.
    public static func result(id: JSONValue?, _ result: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"id":"#.utf8)
        (id ?? .null).write(into: &out)
        out.append(contentsOf: #","jsonrpc":"2.0","result":"#.utf8)
        result.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func error(_ failure: Failure) -> [UInt8] {
        var error: [String: JSONValue] = ["code": .int(failure.code), "message": .string(failure.message)]
        if let data = failure.data { error["data"] = data }
        return JSONValue.object(["jsonrpc": .string("2.0"), "id": failure.id ?? .null, "error": .object(error)]).serializedBytes
    }
}
