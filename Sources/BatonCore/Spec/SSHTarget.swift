/// Where a remote task runs (`ssh:` of a task, or a named entry of `ssh_hosts:`): the
/// command is run there through the system OpenSSH client, with host keys verified.
public struct SSHTarget: Sendable, Equatable, Hashable {
    /// A host name or address; never starts with `-` (it would read as an ssh option).
    public var host: String
    /// nil: ssh's default (22, or the user's ssh config).
    public var port: Int?
    /// nil: ssh's default (the server's user, or the user's ssh config).
    public var user: String?
    /// The private key to log in with (`ssh -i`); nil: ssh's defaults and agent.
    public var identityFile: String?
    /// The known_hosts file the host key is checked against; nil: the user's own.
    public var knownHosts: String?

    public init(
        host: String, port: Int? = nil, user: String? = nil, identityFile: String? = nil,
        knownHosts: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.knownHosts = knownHosts
    }
}
