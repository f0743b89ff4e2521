/// A compact AES-128 block cipher (FIPS-197), for reading and writing `mysql_config_editor`'s login-path file.
///
/// Only what the login-path format needs: single-block encryption and decryption, ECB over whole buffers and
/// PKCS#7 padding. It is table-based and not constant-time, which is fine for this purpose: the file's key is
/// stored next to the data it protects, so the format is obfuscation, not secrecy.
struct AES128: Sendable {
    /// The 11 round keys, 16 bytes each, flattened.
    private let roundKeys: [UInt8]

    /// Expands a 16-byte key.
    init(key: [UInt8]) {
        precondition(key.count == 16, "AES-128 needs a 16-byte key")
        var words = key
        words.reserveCapacity(176)
        var roundConstant: UInt8 = 1
        while words.count < 176 {
            var temp = Array(words[(words.count - 4)...])
            if words.count % 16 == 0 {
                temp = [temp[1], temp[2], temp[3], temp[0]].map { Self.sBox[Int($0)] }
                temp[0] ^= roundConstant
                roundConstant = Self.xtime(roundConstant)
            }
            for index in 0..<4 { words.append(words[words.count - 16] ^ temp[index]) }
        }
        roundKeys = words
    }

    /// Encrypts one 16-byte block.
    func encryptBlock(_ input: ArraySlice<UInt8>) -> [UInt8] {
        precondition(input.count == 16, "AES block is 16 bytes")
        var state = Array(input)
        addRoundKey(&state, round: 0)
        for round in 1...10 {
            for index in 0..<16 { state[index] = Self.sBox[Int(state[index])] }
            Self.shiftRows(&state)
            if round != 10 { Self.mixColumns(&state) }
            addRoundKey(&state, round: round)
        }
        return state
    }

    /// Decrypts one 16-byte block.
    func decryptBlock(_ input: ArraySlice<UInt8>) -> [UInt8] {
        precondition(input.count == 16, "AES block is 16 bytes")
        var state = Array(input)
        addRoundKey(&state, round: 10)
        for round in stride(from: 9, through: 0, by: -1) {
            Self.inverseShiftRows(&state)
            for index in 0..<16 { state[index] = Self.inverseSBox[Int(state[index])] }
            addRoundKey(&state, round: round)
            if round != 0 { Self.inverseMixColumns(&state) }
        }
        return state
    }

    /// ECB encryption of `plaintext` with PKCS#7 padding (always at least one byte of padding).
    func encryptECB(padding plaintext: [UInt8]) -> [UInt8] {
        let padLength = 16 - plaintext.count % 16
        let padded = plaintext + [UInt8](repeating: UInt8(padLength), count: padLength)
        var out: [UInt8] = []
        out.reserveCapacity(padded.count)
        for start in stride(from: 0, to: padded.count, by: 16) {
            out += encryptBlock(padded[start..<(start + 16)])
        }
        return out
    }

    /// ECB decryption with PKCS#7 padding removed; nil when the length or the padding is invalid.
    func decryptECB(unpadding ciphertext: [UInt8]) -> [UInt8]? {
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(ciphertext.count)
        for start in stride(from: 0, to: ciphertext.count, by: 16) {
            out += decryptBlock(ciphertext[start..<(start + 16)])
        }
        guard let padLength = out.last, (1...16).contains(padLength),
            out.suffix(Int(padLength)).allSatisfy({ $0 == padLength })
        else { return nil }
        out.removeLast(Int(padLength))
        return out
    }

    // MARK: Rounds

    private func addRoundKey(_ state: inout [UInt8], round: Int) {
        let base = round * 16
        for index in 0..<16 { state[index] ^= roundKeys[base + index] }
    }

    /// The state is column-major: byte `row + 4 * column`.
    private static func shiftRows(_ state: inout [UInt8]) {
        let copy = state
        for row in 1..<4 {
            for column in 0..<4 { state[row + 4 * column] = copy[row + 4 * ((column + row) % 4)] }
        }
    }

    private static func inverseShiftRows(_ state: inout [UInt8]) {
        let copy = state
        for row in 1..<4 {
            for column in 0..<4 { state[row + 4 * ((column + row) % 4)] = copy[row + 4 * column] }
        }
    }

    private static func mixColumns(_ state: inout [UInt8]) {
        for column in 0..<4 {
            let base = 4 * column
            let a0 = state[base]
            let a1 = state[base + 1]
            let a2 = state[base + 2]
            let a3 = state[base + 3]
            state[base] = xtime(a0) ^ (xtime(a1) ^ a1) ^ a2 ^ a3
            state[base + 1] = a0 ^ xtime(a1) ^ (xtime(a2) ^ a2) ^ a3
            state[base + 2] = a0 ^ a1 ^ xtime(a2) ^ (xtime(a3) ^ a3)
            state[base + 3] = (xtime(a0) ^ a0) ^ a1 ^ a2 ^ xtime(a3)
        }
    }

    private static func inverseMixColumns(_ state: inout [UInt8]) {
        for column in 0..<4 {
            let base = 4 * column
            let a0 = state[base]
            let a1 = state[base + 1]
            let a2 = state[base + 2]
            let a3 = state[base + 3]
            state[base] = multiply(a0, 14) ^ multiply(a1, 11) ^ multiply(a2, 13) ^ multiply(a3, 9)
            state[base + 1] = multiply(a0, 9) ^ multiply(a1, 14) ^ multiply(a2, 11) ^ multiply(a3, 13)
            state[base + 2] = multiply(a0, 13) ^ multiply(a1, 9) ^ multiply(a2, 14) ^ multiply(a3, 11)
            state[base + 3] = multiply(a0, 11) ^ multiply(a1, 13) ^ multiply(a2, 9) ^ multiply(a3, 14)
        }
    }

    /// Multiplication by x (that is, 2) in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
    private static func xtime(_ value: UInt8) -> UInt8 {
        (value << 1) ^ ((value & 0x80) != 0 ? 0x1B : 0)
    }

    private static func multiply(_ value: UInt8, _ factor: UInt8) -> UInt8 {
        var result: UInt8 = 0
        var a = value
        var b = factor
        while b != 0 {
            if b & 1 != 0 { result ^= a }
            a = xtime(a)
            b >>= 1
        }
        return result
    }

    // MARK: Tables

    /// The S-box, computed once from its definition (multiplicative inverse, then the affine map).
    static let sBox: [UInt8] = {
        var box = [UInt8](repeating: 0, count: 256)
        for value in 0..<256 {
            let inverse = value == 0 ? 0 : (1..<256).first { multiply(UInt8(value), UInt8($0)) == 1 }!
            var byte = UInt8(inverse)
            var result = byte
            for _ in 0..<4 {
                byte = (byte << 1) | (byte >> 7)
                result ^= byte
            }
            box[value] = result ^ 0x63
        }
        return box
    }()

    static let inverseSBox: [UInt8] = {
        var box = [UInt8](repeating: 0, count: 256)
        for (index, value) in sBox.enumerated() { box[Int(value)] = UInt8(index) }
        return box
    }()
}
