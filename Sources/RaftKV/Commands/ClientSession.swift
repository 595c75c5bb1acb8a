/// What one client connection has said about itself.
public struct ClientSession: Sendable {
    /// The connection's id, for `CLIENT ID`.
    public let id: Int64
    /// The protocol its replies use.
    public var version: RESPEncoder.ProtocolVersion = .resp2
    /// Whether it passed `AUTH` (always true without a password).
    public var isAuthenticated: Bool
    /// Its name, from `CLIENT SETNAME` or `HELLO … SETNAME`.
    public var name: String?
    /// Set by `QUIT`: close once the replies are written.
    public var wantsClose = false

    /// Creates a session.
    public init(id: Int64, isAuthenticated: Bool) {
        self.id = id
        self.isAuthenticated = isAuthenticated
    }
}
