import Foundation

/// How the demo's and the benchmark's reports write numbers for people: grouped digits,
/// fixed decimals, milliseconds and binary sizes.
enum Figures {
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    static func decimal(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value < 10 ? decimal(value, 2) + " ms" : decimal(value, 0) + " ms"
    }

    static func bytes(_ value: Int64) -> String {
        if value >= 1 << 20 { return decimal(Double(value) / Double(1 << 20), 1) + " MiB" }
        if value >= 1 << 10 { return decimal(Double(value) / Double(1 << 10), 1) + " KiB" }
        return "\(value) B"
    }
}
