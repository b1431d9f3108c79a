import BatonCore
import BatonHTTP
import Foundation

/// Reads a spec file given on the command line.
enum SpecFile {
    /// Loads and validates `path`; on failure prints every error (one per line, with its
    /// path) to stderr and returns nil.
    static func load(_ path: String) -> WorkflowSpec? {
        guard let data = FileManager.default.contents(atPath: path) else {
            Console.error("baton: cannot read \(path): no such file or not readable")
            return nil
        }
        let format: SpecFormat =
            path.hasSuffix(".json") ? .json : (path.hasSuffix(".yaml") || path.hasSuffix(".yml") ? .yaml : .auto)
        do throws(SpecErrors) {
            return try SpecParser.parse(data, format: format)
        } catch {
            for problem in error.errors { Console.error("\(path): \(problem)") }
            return nil
        }
    }
}

/// stdout/stderr writes without buffering surprises.
enum Console {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `bytes` and a newline on stdout, as they are: a 10,000-task run's JSON is 2 MB,
    /// which a String and then a Data would have copied twice more at the peak of
    /// `baton run`'s memory.
    static func out(bytes: [UInt8]) {
        DescriptorWrite.all(STDOUT_FILENO, bytes)
        DescriptorWrite.all(STDOUT_FILENO, [UInt8(ascii: "\n")])
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}
