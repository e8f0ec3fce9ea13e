public import LatchCore
public import LatchSecrets

/// Turning `secrets` rows back into values, and the SQL both stores share.
///
/// A name that no longer parses (edited by hand) is reported as `internalError`, not skipped.
public enum SecretRows {
    /// Columns selected by every query for a whole secret, in ``secret(name:sealedValue:createdAt:updatedAt:)`` order.
    public static let columns = "name, sealed_value, created_at, updated_at"
    /// Columns selected when listing, in ``metadata(name:createdAt:updatedAt:)`` order.
    public static let metadataColumns = "name, created_at, updated_at"

    public static func name(_ text: String) throws(LatchError) -> SecretName {
        do {
            return try SecretName(parsing: text)
        } catch {
            throw LatchError(.internalError, "the secrets table holds a row whose name is not a valid secret name")
        }
    }

    public static func secret(name: String, sealedValue: [UInt8], createdAt: Int64, updatedAt: Int64) throws(LatchError) -> StoredSecret {
        StoredSecret(name: try Self.name(name), sealedValue: sealedValue, createdAt: createdAt, updatedAt: updatedAt)
    }

    public static func metadata(name: String, createdAt: Int64, updatedAt: Int64) throws(LatchError) -> SecretMetadata {
        SecretMetadata(name: try Self.name(name), createdAt: createdAt, updatedAt: updatedAt)
    }
}
