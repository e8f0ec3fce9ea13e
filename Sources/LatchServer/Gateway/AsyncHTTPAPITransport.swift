import AsyncHTTPClient
import LatchGateway
import NIOCore
import NIOHTTP1

/// ``HTTPAPITransport`` over AsyncHTTPClient: the client must refuse redirects (as
/// ``HTTPMCPUpstream/clientConfiguration(connectTimeout:connectionsPerHost:)`` does); each request
/// is bounded by its timeout, its whole response included, and its body by its size limit.
struct AsyncHTTPAPITransport: HTTPAPITransport {
    let client: HTTPClient

    func send(_ request: HTTPAPIRequest) async throws(HTTPAPIError) -> HTTPAPIResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
            outgoing.body = .bytes(request.body)
        }
        let prepared = outgoing
        let outcome = await withTaskGroup(of: Result<HTTPAPIResponse, HTTPAPIError>?.self) { group in
            group.addTask { await Self.exchange(prepared, client: self.client, maxResponseBytes: request.maxResponseBytes) }
            group.addTask {
                try? await Task.sleep(for: request.timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .some(.success(let response)): return response
        case .some(.failure(let error)): throw error
        case .none: throw HTTPAPIError(.timeout, "no answer within \(request.timeout)")
        }
    }

    private static func exchange(
        _ request: HTTPClientRequest, client: HTTPClient, maxResponseBytes: Int
    ) async -> Result<HTTPAPIResponse, HTTPAPIError> {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(3600), logger: nil)
        } catch {
            return .failure(HTTPAPIError(.unavailable, "unreachable: \(Self.describe(error))"))
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxResponseBytes)
        } catch is NIOTooManyBytesError {
            return .failure(HTTPAPIError(.tooLarge, "answered over \(maxResponseBytes) bytes"))
        } catch {
            return .failure(HTTPAPIError(.unavailable, "broke off its answer: \(Self.describe(error))"))
        }
        return .success(
            HTTPAPIResponse(
                status: Int(response.status.code), headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: Array(body.readableBytesView)))
    }

    /// The transport's words for a failure: its type and case, never a URL or header.
    private static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError { return "\(client)" }
        return String(describing: type(of: error))
    }
}
