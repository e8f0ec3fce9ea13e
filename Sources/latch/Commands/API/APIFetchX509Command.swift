import ArgumentParser
import Foundation
import GRPCCore
import LatchIdentity
import LatchWorkloadProto
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// `latch api fetch-x509 [--socket S] [--write DIR]`
struct APIFetchX509Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-x509",
        abstract: "Fetch this process's X.509-SVIDs; print one JSON line per SVID.",
        discussion: "With --write DIR (created if missing), also writes svid.N.pem, svid.N.key (mode 0600) and bundle.N.pem per SVID.")

    @Option(help: "Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else latch-data/public/workload.sock).")
    var socket: String?

    @Option(help: "Directory to write PEM files into.")
    var write: String?

    func run() async throws {
        let response = try await APICommand.withClient(socket: self.socket) { client in
            try await client.fetchX509SVID(Workload_X509SVIDRequest(), metadata: APICommand.header, options: APICommand.timeout) {
                for try await message in $0.messages { return Optional(message) }
                return nil
            }
        }
        guard let response else {
            PolicyCommand.writeError("error: the stream ended without an SVID")
            throw ExitCode(1)
        }
        if let directory = self.write {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        for (index, svid) in response.svids.enumerated() {
            let certificate = try Certificate(derEncoded: Array(svid.x509Svid)[...])
            let line: JSONValue = .object([
                "spiffe_id": .string(svid.spiffeID),
                "not_after": .int(Int64(certificate.notValidAfter.timeIntervalSince1970)),
                "serial": .string(certificate.serialNumber.description),
            ])
            print(line.serialized)
            if let directory = self.write {
                try Self.writePEM(directory + "/svid.\(index).pem", label: "CERTIFICATE", [svid.x509Svid], mode: 0o644)
                try Self.writePEM(directory + "/svid.\(index).key", label: "PRIVATE KEY", [svid.x509SvidKey], mode: 0o600)
                try Self.writePEM(
                    directory + "/bundle.\(index).pem", label: "CERTIFICATE", try Self.splitCertificates(Array(svid.bundle)), mode: 0o644)
            }
        }
    }

    /// Splits concatenated DER certificates (each a SEQUENCE: tag, definite length, contents).
    static func splitCertificates(_ der: [UInt8]) throws -> [Data] {
        var rest = der[...]
        var out: [Data] = []
        while !rest.isEmpty {
            guard rest.count >= 2, rest.first == 0x30 else { throw ValidationError("the bundle is not concatenated DER certificates") }
            let first = rest[rest.startIndex + 1]
            var header = 2
            var length = Int(first)
            if first >= 0x80 {
                let octets = Int(first & 0x7F)
                guard (1...4).contains(octets), rest.count >= 2 + octets else { throw ValidationError("bad DER length in the bundle") }
                length = rest.dropFirst(2).prefix(octets).reduce(0) { $0 << 8 | Int($1) }
                header += octets
            }
            guard rest.count >= header + length else { throw ValidationError("truncated certificate in the bundle") }
            out.append(Data(rest.prefix(header + length)))
            rest = rest.dropFirst(header + length)
        }
        return out
    }

    /// Writes a new file created with `mode` from the start (never briefly readable by others),
    /// refusing to follow a symlink or to replace an existing file.
    static func writePEM(_ path: String, label: String, _ blocks: [Data], mode: mode_t) throws {
        let text = blocks.map { block in
            let base64 = block.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
        }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ValidationError("cannot create \(path) (errno \(errno); it must not exist yet)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw ValidationError("cannot write \(path) (errno \(errno))")
        }
    }
}
