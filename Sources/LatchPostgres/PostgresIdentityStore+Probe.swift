import LatchCore
import Logging
import NIOSSL
import PostgresNIO

extension PostgresIdentityStore {
    /// Opens one connection with the store's settings, runs `SELECT 1` and closes it, so a store
    /// that cannot be used fails at once with the reason.
    ///
    /// The pool alone retries a failing server with backoff until its circuit breaker trips (about
    /// a minute) and then reports only that: a wrong host, port, password or database name, or a
    /// server out of connection slots, would leave `latch serve` or a command waiting that long
    /// for an error that names none of them. The error never holds the password.
    public func probe(timeout: Duration = .seconds(10)) async throws {
        let settings = self.configuration
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch settings.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw LatchError(.configuration, "cannot set up TLS for PostgreSQL: \(error)")
        }
        var connection = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password?.unredacted,
            database: settings.database, tls: tls)
        connection.options.connectTimeout = .seconds(max(1, timeout.components.seconds))
        let place = "PostgreSQL at \(settings.host):\(settings.port), database \(settings.database), user \(settings.username)"
        do {
            let opened = try await PostgresConnection.connect(configuration: connection, id: 0, logger: self.logger)
            do {
                try await opened.query("SELECT 1", logger: self.logger)
            } catch {
                try? await opened.close()
                throw error
            }
            try await opened.close()
        } catch let error as PSQLError {
            throw LatchError(.io, "cannot use \(place): \(Self.reason(error))")
        } catch {
            throw LatchError(.io, "cannot use \(place): \(error)")
        }
    }

    /// What went wrong, in the server's words when it said something (its message and SQLSTATE,
    /// e.g. `password authentication failed for user "latch" (28P01)`), else the connection's.
    static func reason(_ error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            return message + (info[.sqlState].map { " (\($0))" } ?? "")
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}
