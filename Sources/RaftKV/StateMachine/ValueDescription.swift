/// A value as traces and explanations show it: its bytes in hex, or `nil` for an absent
/// key.
package func describe(_ value: [UInt8]?) -> String {
    guard let value else { return "nil" }
    let digits = Array("0123456789abcdef")
    return "0x" + String(value.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}
