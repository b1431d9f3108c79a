import CLibPQ
import Foundation

/// The rows of one statement, read by row and column position in text format.
final class PGResult {
    private let handle: OpaquePointer

    private init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    /// Wraps `result`, or throws the error it (or the connection) reports.
    @discardableResult
    static func checked(_ result: OpaquePointer?, connection: OpaquePointer) throws -> PGResult {
        guard let result else { throw PGError.connection(PGConnection.message(connection)) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(result)
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
            PQclear(result)
            if state.isEmpty {
                throw PGError.connection(
                    message.isEmpty ? PGConnection.message(connection) : message.trimmingCharacters(in: .newlines))
            }
            throw PGError.server(sqlState: state, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    var count: Int { Int(PQntuples(handle)) }

    /// Rows changed by an INSERT, UPDATE or DELETE.
    var changes: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) != 0 }

    func string(_ row: Int, _ column: Int) -> String? {
        if isNull(row, column) { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    func int(_ row: Int, _ column: Int) -> Int? {
        if isNull(row, column) { return nil }
        return strtol(PQgetvalue(handle, Int32(row), Int32(column)), nil, 10)
    }

    func double(_ row: Int, _ column: Int) -> Double? {
        if isNull(row, column) { return nil }
        return strtod(PQgetvalue(handle, Int32(row), Int32(column)), nil)
    }

    func bool(_ row: Int, _ column: Int) -> Bool? {
        if isNull(row, column) { return nil }
        return PQgetvalue(handle, Int32(row), Int32(column)).pointee == CChar(UInt8(ascii: "t"))
    }

    /// A `bytea` column, which text format sends as `\x` and hex digits.
    func bytes(_ row: Int, _ column: Int) -> Data? {
        if isNull(row, column) { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        let text = UnsafeRawPointer(PQgetvalue(handle, Int32(row), Int32(column))!).assumingMemoryBound(to: UInt8.self)
        return PGBytea.decode(UnsafeBufferPointer(start: text, count: length))
    }

    func date(_ row: Int, _ column: Int) -> Date? {
        double(row, column).map { Date(timeIntervalSince1970: $0) }
    }
}
