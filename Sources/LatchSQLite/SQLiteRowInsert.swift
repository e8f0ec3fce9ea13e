import GRDB
import GRDBSQLite

/// One row bound straight to a prepared GRDB statement through SQLite's C API, then run.
///
/// GRDB's `execute(arguments:)` wraps every value in a `DatabaseValue` and reports each statement
/// to its observers, which costs about as much as SQLite's insert itself at the rates grants and
/// decision records are written. The statement stays GRDB's: prepared and cached by it, run inside
/// its transaction, finalized by it. Text and blobs are copied by SQLite while binding
/// (`SQLITE_TRANSIENT`); text never holds U+0000 here (the stores validate or map it first).
struct SQLiteRowInsert {
    private let handle: SQLiteStatement
    private let db: Database

    /// Binds with `bind`, runs the statement once, and leaves it reset with no bindings. Throws
    /// SQLite's error (``DatabaseError``, its extended code set) when the row is refused.
    static func run(_ statement: Statement, _ db: Database, bind: (SQLiteRowInsert) throws -> Void) throws {
        let row = SQLiteRowInsert(handle: statement.sqliteStatement, db: db)
        defer {
            sqlite3_reset(row.handle)
            sqlite3_clear_bindings(row.handle)
        }
        try bind(row)
        guard sqlite3_step(row.handle) != SQLITE_DONE else { return }
        throw row.error(sqlite3_extended_errcode(db.sqliteConnection))
    }

    func text(_ index: Int32, _ value: String) throws { try self.check(sqlite3_bind_text(self.handle, index, value, -1, sqliteTransient)) }

    /// `value`, or NULL.
    func text(_ index: Int32, _ value: String?) throws {
        guard let value else { return try self.check(sqlite3_bind_null(self.handle, index)) }
        try self.text(index, value)
    }

    /// UTF-8 bytes as text.
    func text(_ index: Int32, utf8 bytes: [UInt8]) throws {
        try self.check(bytes.withUnsafeBufferPointer { sqlite3_bind_text(self.handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) })
    }

    func int64(_ index: Int32, _ value: Int64) throws { try self.check(sqlite3_bind_int64(self.handle, index, value)) }

    func blob(_ index: Int32, _ bytes: [UInt8]) throws {
        try self.check(bytes.withUnsafeBytes { sqlite3_bind_blob(self.handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) })
    }

    private func check(_ code: Int32) throws { if code != SQLITE_OK { throw self.error(code) } }

    /// The error SQLite reported (its message names tables and columns, not values).
    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(self.db.sqliteConnection)))
    }
}

/// SQLite's `SQLITE_TRANSIENT` (a C macro Swift does not import): SQLite copies the value while binding.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
