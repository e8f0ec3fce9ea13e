public import LatchCore

/// Where a template's secret references are looked up when it is rendered.
public protocol SecretResolver: Sendable {
    /// The value of the secret `name`, or nil if there is no such secret.
    func secretValue(named name: SecretName) async throws -> Redacted<[UInt8]>?
}

/// Secret values already in memory: a snapshot a server keeps between revisions, or a test's.
public struct ResolvedSecrets: SecretResolver {
    public var values: [SecretName: Redacted<[UInt8]>]

    public init(_ values: [SecretName: Redacted<[UInt8]>] = [:]) { self.values = values }

    public func secretValue(named name: SecretName) async throws -> Redacted<[UInt8]>? { self.values[name] }
}
