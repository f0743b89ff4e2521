import COpenSSL

/// `caching_sha2_password`, the client side (MySQL 8.0+'s default, the only password plugin of MySQL 9.x): what
/// the emulator's backend connections send to log in, as ProxySQL 2.7 and libmariadb do.
///
/// The exchange after the scramble token (see `sql-common/client_authentication.cc` of MySQL):
/// - the server answers `0x01 0x03` (fast path: it had the account's hash cached; an OK packet follows) or
///   `0x01 0x04` (full path: it needs the password);
/// - full path over plain TCP: the client sends `0x02` to request the server's RSA public key, the server answers
///   `0x01` + the key in PEM, and the client sends the password, NUL-terminated, XORed with the scramble
///   (repeated) and encrypted with RSA-OAEP (SHA-1, MGF1-SHA-1: OpenSSL's `RSA_PKCS1_OAEP_PADDING`).
enum CachingSHA2Password {
    static let pluginName = "caching_sha2_password"

    /// The fast-path status bytes after `0x01`.
    static let fastAuthSucceeded: UInt8 = 0x03
    static let fullAuthRequired: UInt8 = 0x04
    /// The client's request for the server's RSA public key.
    static let requestPublicKey: UInt8 = 0x02

    /// The scramble token: `SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble)`; empty for an empty
    /// password.
    static func token(password: String, scramble: [UInt8]) -> [UInt8] {
        if password.isEmpty { return [] }
        let stage1 = sha256(Array(password.utf8))
        let stage2 = sha256(stage1)
        let mix = sha256(stage2 + scramble)
        return zip(stage1, mix).map { $0 ^ $1 }
    }

    /// The password for the full path over plain TCP: `password + NUL`, XORed with `scramble`, RSA-OAEP encrypted
    /// with the server's public key (`pem`, SubjectPublicKeyInfo).
    ///
    /// - Throws: ``MySQLWireError`` when the key cannot be read or encryption fails.
    static func encryptedPassword(_ password: String, scramble: [UInt8], publicKeyPEM pem: [UInt8]) throws -> [UInt8] {
        guard !scramble.isEmpty else { throw MySQLWireError(description: "empty scramble") }
        let plain = (Array(password.utf8) + [0]).enumerated().map { $0.element ^ scramble[$0.offset % scramble.count] }
        guard let bio = pem.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw MySQLWireError(description: "cannot read the server's public key")
        }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
            throw MySQLWireError(description: "the server's public key is not a PEM public key")
        }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_PKEY_CTX_new(key, nil) else {
            throw MySQLWireError(description: "cannot use the server's public key")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_encrypt_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) == 1
        else { throw MySQLWireError(description: "cannot set up RSA-OAEP encryption") }
        var length = 0
        guard EVP_PKEY_encrypt(context, nil, &length, plain, plain.count) == 1 else {
            throw MySQLWireError(description: "RSA encryption of the password failed")
        }
        var output = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_encrypt(context, &output, &length, plain, plain.count) == 1 else {
            throw MySQLWireError(description: "RSA encryption of the password failed")
        }
        return Array(output.prefix(length))
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_Digest(data, data.count, &digest, &length, EVP_sha256(), nil)
        return digest
    }
}
