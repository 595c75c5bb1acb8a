/// Why a ``RESPClient`` request got no reply. Error replies from the server are not thrown:
/// they come back as ``RESPValue/error(_:)``.
public enum RESPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection closed (or was never open) before the reply arrived. A write sent
    /// on it may or may not have been applied.
    case connectionClosed
    /// No reply arrived within the client's reply timeout; the connection was closed. A write
    /// sent on it may or may not have been applied.
    case timedOut
    /// The server sent bytes that are not valid RESP; the connection was closed.
    case protocolError(RESPProtocolError)

    public var description: String {
        switch self {
        case .connectionClosed: "connection closed before the reply arrived"
        case .timedOut: "no reply within the timeout"
        case .protocolError(let error): "protocol error from the server: \(error)"
        }
    }
}
