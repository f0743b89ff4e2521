/// How a backend connection of the emulator logged in: which password plugin, and for `caching_sha2_password`
/// which of its paths the server chose (ADR 0010). Tests read it from ``BackendConnection/loginPath``.
enum BackendLoginPath: Sendable, Hashable, CustomStringConvertible {
    /// `mysql_native_password` (MariaDB; MySQL up to 8.4 for accounts that use it).
    case nativePassword
    /// `caching_sha2_password` where the server answered the scramble token with OK and no status byte (an empty
    /// password).
    case cachingSHA2WithoutExchange
    /// `caching_sha2_password`, fast path: the server had the account's hash cached and accepted the scramble
    /// token (`0x01 0x03`, then OK).
    case cachingSHA2FastPath
    /// `caching_sha2_password`, full path (`0x01 0x04`): the server needed the password itself; over plain TCP the
    /// emulator asked for the server's RSA public key and sent the password RSA-OAEP encrypted.
    case cachingSHA2FullPath

    var description: String {
        switch self {
        case .nativePassword: "mysql_native_password"
        case .cachingSHA2WithoutExchange: "caching_sha2_password (no exchange)"
        case .cachingSHA2FastPath: "caching_sha2_password fast path"
        case .cachingSHA2FullPath: "caching_sha2_password full path (RSA)"
        }
    }
}

/// What a completed backend login hands to ``BackendConnection``.
struct BackendLogin: Sendable {
    var threadID: UInt32
    var path: BackendLoginPath
}
