/// Why a command was refused before it reached the log, as Redis words it.
enum CommandError: Error {
    /// Wrong number of arguments.
    case arity
    /// No such command.
    case unknownCommand
    /// A reply with this error text.
    case reply(String)

    func reply(command: String, arguments: [[UInt8]]) -> RESPValue {
        switch self {
        case .arity:
            return .error("ERR wrong number of arguments for '\(command.lowercased())' command")
        case .unknownCommand:
            let shown = arguments.prefix(20).map { "'\(String(decoding: $0.prefix(128), as: UTF8.self))'" }
            return .error("ERR unknown command '\(command.lowercased())', with args beginning with: \(shown.map { $0 + " " }.joined())")
        case .reply(let text):
            return .error(text)
        }
    }
}

/// Checks a command's argument count.
struct CommandArity {
    let arguments: [[UInt8]]

    func require(_ range: ClosedRange<Int>) throws(CommandError) {
        guard range.contains(arguments.count) else { throw .arity }
    }
}

/// Comparison whose time does not depend on where the inputs differ.
enum ConstantTime {
    /// Whether `a` equals `b`, looking at every byte of `b` whatever `a` holds.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in b.indices {
            difference |= (index < a.count ? a[index] : 0) ^ b[index]
        }
        return difference == 0 && a.count == b.count
    }
}
