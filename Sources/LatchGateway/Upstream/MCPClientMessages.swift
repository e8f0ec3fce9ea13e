package import LatchIdentity

/// What Latch says as an MCP client, and how it reads what upstreams answer: shared by the stdio
/// and the Streamable HTTP upstreams.
package enum MCPClientMessages {
    /// The protocol revision Latch asks for in `initialize`.
    package static let protocolVersion = "2025-11-25"

    /// Revisions Latch accepts when an upstream answers `initialize` with an older one.
    package static let supportedProtocolVersions: Set<String> = ["2025-11-25", "2025-06-18", "2025-03-26"]

    /// How Latch names itself in `initialize`.
    package static let clientInfo: JSONValue = .object(["name": .string("Latch"), "version": .string("0.1.0")])

    /// The `initialize` request's params.
    package static var initializeParams: JSONValue {
        .object([
            "protocolVersion": .string(Self.protocolVersion),
            "capabilities": .object([:]),
            "clientInfo": Self.clientInfo,
        ])
    }

    /// Most pages of `tools/list` Latch follows before it gives up on an upstream that never stops.
    package static let maximumToolPages = 1000

    /// A JSON-RPC 2.0 request, serialized.
    package static func request(id: Int64, method: String, params: JSONValue?) -> [UInt8] {
        var object: [String: JSONValue] = ["jsonrpc": .string("2.0"), "id": .int(id), "method": .string(method)]
        if let params { object["params"] = params }
        return JSONValue.object(object).serializedBytes
    }

    /// A JSON-RPC 2.0 notification, serialized.
    package static func notification(method: String, params: JSONValue?) -> [UInt8] {
        var object: [String: JSONValue] = ["jsonrpc": .string("2.0"), "method": .string(method)]
        if let params { object["params"] = params }
        return JSONValue.object(object).serializedBytes
    }

    /// A JSON-RPC 2.0 response to a request the upstream sent Latch.
    package static func response(id: JSONValue, result: JSONValue) -> [UInt8] {
        JSONValue.object(["jsonrpc": .string("2.0"), "id": id, "result": result]).serializedBytes
    }

    /// A JSON-RPC 2.0 error response to a request the upstream sent Latch.
    package static func errorResponse(id: JSONValue, code: Int64, message: String) -> [UInt8] {
        JSONValue.object([
            "jsonrpc": .string("2.0"), "id": id, "error": .object(["code": .int(code), "message": .string(message)]),
        ]).serializedBytes
    }

    /// `notifications/cancelled` for a request Latch stopped waiting for.
    package static func cancelled(id: Int64, reason: String) -> [UInt8] {
        Self.notification(method: "notifications/cancelled", params: .object(["requestId": .int(id), "reason": .string(reason)]))
    }

    /// `tools/call` params: the upstream's own tool name, arguments and `_meta` when present.
    package static func callToolParams(name: String, arguments: JSONValue?, meta: JSONValue?) -> JSONValue {
        var params: [String: JSONValue] = ["name": .string(name)]
        if let arguments { params["arguments"] = arguments }
        if let meta { params["_meta"] = meta }
        return .object(params)
    }

    /// The result of a response, or the typed error its `error` member (or its malformation) means.
    package static func outcome(of message: JSONRPCMessage, upstream: String) -> Result<JSONValue, MCPUpstreamError> {
        switch message {
        case .response(_, .success(let result)):
            guard case .object = result else {
                return .failure(MCPUpstreamError(.unavailable, "upstream \(upstream) answered a result that is not an object"))
            }
            return .success(result)
        case .response(_, .failure(let error)):
            return .failure(
                MCPUpstreamError(
                    .rpcError(code: error.code, message: error.message, data: error.data),
                    "upstream \(upstream) answered JSON-RPC error \(error.code): \(error.message)"))
        case .request, .notification:
            return .failure(MCPUpstreamError(.unavailable, "upstream \(upstream) sent a request where a response was expected"))
        }
    }

    /// Checks an `initialize` result; returns the protocol revision the upstream chose.
    package static func negotiatedVersion(_ result: JSONValue, upstream: String) -> Result<String, MCPUpstreamError> {
        guard let version = result["protocolVersion"]?.stringValue else {
            return .failure(MCPUpstreamError(.unavailable, "upstream \(upstream) answered initialize without a protocolVersion"))
        }
        guard Self.supportedProtocolVersions.contains(version) else {
            return .failure(MCPUpstreamError(.unavailable, "upstream \(upstream) speaks MCP \(version), which Latch does not"))
        }
        return .success(version)
    }

    /// Every tool of every `tools/list` page, following `nextCursor`.
    ///
    /// - Parameter page: sends `tools/list` with the given params and returns its result.
    package static func listAllTools(
        upstream: String, page: (JSONValue?) async throws(MCPUpstreamError) -> JSONValue
    ) async throws(MCPUpstreamError) -> [JSONValue] {
        var tools: [JSONValue] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<Self.maximumToolPages {
            let result = try await page(cursor.map { .object(["cursor": .string($0)]) })
            guard let listed = result["tools"]?.arrayValue else {
                throw MCPUpstreamError(.unavailable, "upstream \(upstream) answered tools/list without a tools array")
            }
            tools.append(contentsOf: listed)
            guard let next = result["nextCursor"]?.stringValue else { return tools }
            guard seen.insert(next).inserted else {
                throw MCPUpstreamError(.unavailable, "upstream \(upstream) repeated a tools/list cursor")
            }
            cursor = next
        }
        throw MCPUpstreamError(.unavailable, "upstream \(upstream) listed more than \(Self.maximumToolPages) pages of tools")
    }
}

/// A JSON-RPC 2.0 error object.
package struct JSONRPCErrorObject: Error, Hashable, Sendable {
    package var code: Int64
    package var message: String
    package var data: JSONValue?
}

/// One JSON-RPC 2.0 message an upstream sent, by kind.
package enum JSONRPCMessage: Hashable, Sendable {
    case response(id: JSONValue, Result<JSONValue, JSONRPCErrorObject>)
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)

    /// Classifies a parsed message; nil if it is not a JSON-RPC 2.0 message.
    package init?(classifying value: JSONValue) {
        guard case .object(let object) = value, object["jsonrpc"] == .string("2.0") else { return nil }
        if let method = object["method"] {
            guard let method = method.stringValue else { return nil }
            if let id = object["id"] {
                guard Self.isValidID(id) else { return nil }
                self = .request(id: id, method: method, params: object["params"])
            } else {
                self = .notification(method: method, params: object["params"])
            }
            return
        }
        guard let id = object["id"], Self.isValidID(id) || id == .null else { return nil }
        switch (object["result"], object["error"]) {
        case (let result?, nil):
            self = .response(id: id, .success(result))
        case (nil, let error?):
            guard let code = error["code"]?.intValue, let message = error["message"]?.stringValue else { return nil }
            self = .response(id: id, .failure(JSONRPCErrorObject(code: code, message: message, data: error["data"])))
        default:
            return nil
        }
    }

    /// The id Latch gave the request this message answers, when it is a response to one.
    package var responseID: Int64? {
        if case .response(let id, _) = self { return id.intValue }
        return nil
    }

    private static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .int, .string: true
        case .double(let d): d.rounded(.towardZero) == d
        default: false
        }
    }
}
