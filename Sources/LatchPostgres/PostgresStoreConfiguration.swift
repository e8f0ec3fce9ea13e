import Foundation
public import LatchCore

/// Where and how the PostgreSQL store connects.
///
/// Usually made from a URL: `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE&schema=NAME`
/// (`postgresql://` also accepted; user and password percent-decoded; port 5432 by default).
public struct PostgresStoreConfiguration: Sendable, CustomStringConvertible {
    /// How the connection uses TLS.
    public enum TLSMode: String, Sendable {
        /// Plain TCP.
        case disable
        /// TLS if the server offers it, else plain (libpq's default; the default here too).
        case prefer
        /// TLS with the server's certificate and host name verified against the system's trust
        /// roots (libpq's `verify-full`; `require` and `verify-ca` mean the same here).
        case require
    }

    public var host: String
    public var port: Int = 5432
    public var username: String
    public var password: Redacted<String>?
    public var database: String
    public var tls: TLSMode = .prefer
    /// Schema holding Latch's tables (created if missing); `nil` uses the server's `search_path`
    /// (normally `public`). Lowercase letters, digits and `_`, starting with a letter or `_`.
    public var schema: String?
    /// Most connections the pool opens. Default 10.
    public var maximumConnections: Int = 10

    public init(
        host: String, port: Int = 5432, username: String, password: String?, database: String,
        tls: TLSMode = .prefer, schema: String? = nil
    ) throws(LatchError) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password.map { Redacted($0) }
        self.database = database
        self.tls = tls
        if let schema { try Self.validateSchema(schema) }
        self.schema = schema
    }

    /// Parses a `postgres://` URL.
    public init(url text: String) throws(LatchError) {
        // The URL holds a password: errors never repeat it.
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw LatchError(.configuration, "PostgreSQL URL must look like postgres://user:password@host:port/database")
        }
        guard let host = url.host, !host.isEmpty else { throw LatchError(.configuration, "PostgreSQL URL has no host") }
        guard let user = url.user, !user.isEmpty else { throw LatchError(.configuration, "PostgreSQL URL has no user") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw LatchError(.configuration, "PostgreSQL URL must name one database as its path")
        }
        var tls = TLSMode.prefer
        var schema: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw LatchError(.configuration, "PostgreSQL URL: unknown sslmode (disable, prefer, require, verify-full)")
                }
            case "schema": schema = item.value
            default: throw LatchError(.configuration, "PostgreSQL URL: unknown parameter \(item.name) (sslmode, schema)")
            }
        }
        try self.init(
            // URLComponents hands back user, password and path already percent-decoded.
            host: host, port: url.port ?? 5432, username: user, password: url.password, database: database,
            tls: tls, schema: schema)
    }

    public var description: String {
        "postgres://\(self.username)\(self.password == nil ? "" : ":<redacted>")@\(self.host):\(self.port)/\(self.database)"
            + "?sslmode=\(self.tls.rawValue)\(self.schema.map { "&schema=\($0)" } ?? "")"
    }

    /// Schema names go into SQL as identifiers (which cannot be bound parameters): a strict pattern.
    static func validateSchema(_ name: String) throws(LatchError) {
        let bytes = Array(name.utf8)
        let ok =
            (1...63).contains(bytes.count)
            && bytes.enumerated().allSatisfy { index, byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_")
                    || (index > 0 && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte))
            }
        guard ok else {
            throw LatchError(.configuration, "PostgreSQL schema must be 1-63 of [a-z0-9_], not starting with a digit")
        }
    }
}
