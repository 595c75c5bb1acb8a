import Foundation
import Testing

/// `RaftCore` must depend on nothing but the standard library.
@Suite("Module hygiene")
struct ModuleHygieneTests {
    static let sourceDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Sources/RaftCore")

    static func sourceFiles() throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: sourceDirectory, includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "swift" { files.append(url) }
        }
        return files
    }

    @Test("RaftCore imports nothing, not even Foundation")
    func noImports() throws {
        let files = try Self.sourceFiles()
        #expect(files.count > 10, "found only \(files.count) sources under \(Self.sourceDirectory.path)")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                let words = trimmed.split(separator: " ")
                let isImport = words.contains("import") && (words.first == "import" || words.first?.hasPrefix("@") == true
                    || ["public", "internal", "private", "fileprivate", "package"].contains(String(words.first ?? "")))
                #expect(!isImport, "\(file.lastPathComponent) has \(trimmed)")
            }
        }
    }

    @Test("RaftCore source contains no fatalError, precondition, try! or as!")
    func noTraps() throws {
        for file in try Self.sourceFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for token in ["fatalError(", "precondition(", "preconditionFailure(", "try!", "as!"] {
                #expect(!text.contains(token), "\(file.lastPathComponent) contains \(token)")
            }
        }
    }
}
