import Testing

@testable import MariaDB

@Suite("AES128")
struct AES128Tests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test("FIPS-197 appendix C.1 example vector")
    func fipsAppendixC1() {
        let cipher = AES128(key: Self.bytes("000102030405060708090a0b0c0d0e0f"))
        let plaintext = Self.bytes("00112233445566778899aabbccddeeff")
        let ciphertext = Self.bytes("69c4e0d86a7b0430d8cdb78070b4c55a")
        #expect(cipher.encryptBlock(plaintext[...]) == ciphertext)
        #expect(cipher.decryptBlock(ciphertext[...]) == plaintext)
    }

    @Test("FIPS-197 appendix B cipher example")
    func fipsAppendixB() {
        let cipher = AES128(key: Self.bytes("2b7e151628aed2a6abf7158809cf4f3c"))
        let plaintext = Self.bytes("3243f6a8885a308d313198a2e0370734")
        let ciphertext = Self.bytes("3925841d02dc09fbdc118597196a0b32")
        #expect(cipher.encryptBlock(plaintext[...]) == ciphertext)
        #expect(cipher.decryptBlock(ciphertext[...]) == plaintext)
    }

    @Test("S-box spot checks (FIPS-197 figure 7)")
    func sBox() {
        #expect(AES128.sBox[0x00] == 0x63)
        #expect(AES128.sBox[0x53] == 0xED)
        #expect(AES128.sBox[0xFF] == 0x16)
        #expect(AES128.inverseSBox[0x63] == 0x00)
        #expect(Set(AES128.sBox).count == 256)
    }

    @Test("ECB with PKCS#7: every length from 0 to 48 round-trips, padding is 1...16 bytes")
    func ecbPadding() {
        let cipher = AES128(key: Array(0..<16))
        for length in 0...48 {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encrypted = cipher.encryptECB(padding: plaintext)
            #expect(encrypted.count == (length / 16 + 1) * 16)
            #expect(cipher.decryptECB(unpadding: encrypted) == plaintext)
        }
    }

    @Test("ECB blocks are independent")
    func ecbBlocksIndependent() {
        let cipher = AES128(key: Array(repeating: 7, count: 16))
        let block = Array(repeating: UInt8(0x41), count: 16)
        let encrypted = cipher.encryptECB(padding: block + block)
        #expect(encrypted[0..<16] == encrypted[16..<32])
    }

    @Test("bad ciphertext: empty, unaligned, or with invalid padding")
    func badCiphertext() {
        let cipher = AES128(key: Array(0..<16))
        #expect(cipher.decryptECB(unpadding: []) == nil)
        #expect(cipher.decryptECB(unpadding: Array(repeating: 0, count: 15)) == nil)
        // A block whose plaintext ends in 0x00 has no valid padding.
        let zeroEnding = cipher.encryptBlock(Array(repeating: 0, count: 16)[...])
        #expect(cipher.decryptECB(unpadding: zeroEnding) == nil)
        // A block ending in 0x02 0x03 has inconsistent padding.
        var inconsistent = Array(repeating: UInt8(9), count: 16)
        inconsistent[14] = 2
        inconsistent[15] = 3
        #expect(cipher.decryptECB(unpadding: cipher.encryptBlock(inconsistent[...])) == nil)
        // A block ending in 0x11 (17) claims more padding than a block holds.
        #expect(cipher.decryptECB(unpadding: cipher.encryptBlock(Array(repeating: 0x11, count: 16)[...])) == nil)
    }
}
