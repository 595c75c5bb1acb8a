#if canImport(Glibc)
import Glibc
#endif
import Testing
import WAL

/// Error messages name the errno instead of printing a bare number (issue 10, finding 13).
@Suite struct ErrorMessageTests {
    @Test(arguments: [(ENOTDIR, "ENOTDIR"), (EISDIR, "EISDIR"), (EROFS, "EROFS")])
    func anErrnoIsNamed(_ value: Int32, _ name: String) {
        let error = FileSystemError(code: .other, operation: "open", path: "/x/log", errno: value)
        #expect(error.description == "open /x/log: \(name) (errno \(value))")
    }

    @Test func aKnownCodeKeepsItsKindAndGainsTheName() {
        let error = FileSystemError(code: .ioError, operation: "fdatasync", path: "/x", errno: EIO)
        #expect(error.description == "fdatasync /x: ioError (EIO, errno \(EIO))")
    }
}
