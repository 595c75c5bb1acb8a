import Foundation
import Testing

/// The examples the README shows, built and run as a user runs them.
@Suite(.timeLimit(.minutes(2))) struct ExampleProcessTests {
    @Test func theReplicatedCounterAgreesOnEveryNode() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtExecutable("ReplicatedCounter"))
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let values = text.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("n"), let equals = line.range(of: "counter = ") else { return nil }
            return Int(line[equals.upperBound...])
        }
        #expect(values.count == 3, "every node reads the counter: \(text)")
        #expect(Set(values).count == 1, "every node reads the same value: \(text)")
        #expect((values.first ?? 0) >= 100 && text.contains("100 increments acknowledged"), "\(text)")
    }
}
