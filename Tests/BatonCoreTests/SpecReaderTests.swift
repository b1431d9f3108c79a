import Foundation
import Testing

@testable import BatonCore

/// The JSON and YAML readers: the value tree they build and the syntax errors they report.
@Suite struct SpecReaderTests {
    private func json(_ text: String) throws(SpecError) -> SpecValue {
        try SpecValue.parseJSON(Data(text.utf8))
    }

    private func yaml(_ text: String) throws(SpecError) -> SpecValue {
        try SpecValue.parseYAML(Data(text.utf8))
    }

    private func jsonError(_ text: String) -> String? {
        do {
            _ = try json(text)
            return nil
        } catch {
            #expect(error.path == "")
            return error.message
        }
    }

    private func yamlError(_ text: String) -> String? {
        do {
            _ = try yaml(text)
            return nil
        } catch {
            #expect(error.path == "")
            return error.message
        }
    }

    @Test func jsonKeepsBooleansIntegersAndNumbersApart() throws {
        let value = try json(#"{"a": true, "b": 1, "c": 1.5, "d": 1.0, "e": -0, "f": 2e3, "g": null, "h": "x"}"#)
        #expect(
            value
                == .object([
                    SpecMember("a", .bool(true)), SpecMember("b", .int(1)), SpecMember("c", .double(1.5)),
                    SpecMember("d", .double(1.0)), SpecMember("e", .int(0)), SpecMember("f", .double(2000)),
                    SpecMember("g", .null), SpecMember("h", .string("x")),
                ]))
    }

    @Test func jsonKeepsMemberOrderAndNesting() throws {
        let value = try json(#" { "z": [1, [2, {}], []], "a": {"b": false} } "#)
        #expect(
            value
                == .object([
                    SpecMember("z", .array([.int(1), .array([.int(2), .object([])]), .array([])])),
                    SpecMember("a", .object([SpecMember("b", .bool(false))])),
                ]))
    }

    @Test func jsonIntegersBeyondIntBecomeNumbers() throws {
        #expect(
            try json("[9223372036854775807, 9223372036854775808, -9223372036854775808]")
                == .array([.int(.max), .double(9_223_372_036_854_775_808), .int(.min)]))
    }

    @Test func jsonDecodesEscapesAndUnicode() throws {
        let value = try json(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "é中😀"]"#)
        #expect(value == .array([.string("a\"b\\c/d\u{8}\u{c}\n\r\t"), .string("é中"), .string("😀"), .string("é中😀")]))
    }

    @Test func jsonAcceptsAByteOrderMark() throws {
        var data = Data([0xEF, 0xBB, 0xBF])
        data.append(Data("{}".utf8))
        #expect(try SpecValue.parseJSON(data) == .object([]))
    }

    @Test func jsonSyntaxErrorsGiveLineAndColumn() {
        #expect(
            jsonError("{\n  \"a\": 1,\n  \"b\" 2\n}")
                == "invalid JSON at line 3, column 7: unexpected character '2', expected ':' after a key")
        #expect(
            jsonError("{\"a\": 1,}")
                == "invalid JSON at line 1, column 9: unexpected character '}', expected a string key")
        #expect(
            jsonError("{\"a\": [1 2]}")
                == "invalid JSON at line 1, column 10: unexpected character '2', expected ',' or ']'")
        #expect(
            jsonError("{\"a\": 1") == "invalid JSON at line 1, column 8: unexpected end of input, expected ',' or '}'")
        #expect(
            jsonError("{} x")
                == "invalid JSON at line 1, column 4: unexpected character 'x' after the end of the document")
        #expect(jsonError("") == "invalid JSON at line 1, column 1: unexpected end of input")
        #expect(
            jsonError("{\"a\": tru}") == "invalid JSON at line 1, column 7: unexpected character 't', expected a value")
        #expect(
            jsonError("{\"a\": 01}")
                == "invalid JSON at line 1, column 8: unexpected character '1', expected ',' or '}'")
        #expect(jsonError("{\"a\": 1.}") == "invalid JSON at line 1, column 7: invalid number")
        #expect(jsonError("{\"a\": -}") == "invalid JSON at line 1, column 7: invalid number")
        #expect(jsonError("{\"a\": 1e999}") == "invalid JSON at line 1, column 7: number out of range")
        #expect(
            jsonError("{\"a\": 'x'}") == "invalid JSON at line 1, column 7: unexpected character ''', expected a value")
        #expect(
            jsonError("{\"é\": ?}") == "invalid JSON at line 1, column 7: unexpected character '?', expected a value")
    }

    @Test func jsonStringErrors() {
        #expect(jsonError("[\"abc") == "invalid JSON at line 1, column 2: unterminated string")
        #expect(
            jsonError("[\"a\nb\"]") == "invalid JSON at line 1, column 4: control character in a string (escape it)")
        #expect(jsonError(#"["\x"]"#) == "invalid JSON at line 1, column 3: invalid escape sequence")
        #expect(jsonError(#"["\u12G4"]"#) == #"invalid JSON at line 1, column 7: invalid \u escape"#)
        #expect(jsonError(#"["\ud83d"]"#) == #"invalid JSON at line 1, column 3: unpaired surrogate in \u escape"#)
        #expect(jsonError(#"["\ude00"]"#) == #"invalid JSON at line 1, column 3: unpaired surrogate in \u escape"#)
    }

    @Test func jsonRejectsDuplicateKeys() {
        #expect(
            jsonError(#"{"a": 1, "b": {"c": 1, "c": 2}}"#) == #"invalid JSON at line 1, column 24: duplicate key "c""#)
        let many = (0..<40).map { "\"k\($0)\": 1" }.joined(separator: ",")
        #expect(jsonError("{\(many), \"k7\": 2}")?.hasSuffix(#"duplicate key "k7""#) == true)
    }

    @Test func jsonRejectsInvalidUTF8() {
        var data = Data(#"{"a": ""#.utf8)
        data.append(contentsOf: [0xC3, 0x28])
        data.append(Data(#""}"#.utf8))
        #expect(throws: SpecError(path: "", message: "invalid JSON at line 1, column 8: invalid UTF-8 in a string")) {
            try SpecValue.parseJSON(data)
        }
    }

    @Test func jsonRefusesDeepNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(jsonError(deep) == "invalid JSON at line 1, column 513: nested more than 512 levels deep")
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(jsonError(fine) == nil)
    }

    @Test func yamlTypesPlainScalars() throws {
        let value = try yaml(
            """
            a: true
            b: off
            c: 42
            d: -7
            e: 0x1F
            f: 0o17
            g: 010
            h: 1.5
            i: .5
            j: 1e3
            k: ~
            l:
            m: hello world
            n: "42"
            o: 'true'
            p: .inf
            q: 1_000
            r: 2024-01-01
            s: +12
            """)
        #expect(
            value
                == .object([
                    SpecMember("a", .bool(true)), SpecMember("b", .bool(false)), SpecMember("c", .int(42)),
                    SpecMember("d", .int(-7)), SpecMember("e", .int(31)), SpecMember("f", .int(15)),
                    SpecMember("g", .int(10)), SpecMember("h", .double(1.5)), SpecMember("i", .double(0.5)),
                    SpecMember("j", .double(1000)), SpecMember("k", .null), SpecMember("l", .null),
                    SpecMember("m", .string("hello world")), SpecMember("n", .string("42")),
                    SpecMember("o", .string("true")), SpecMember("p", .double(.infinity)),
                    SpecMember("q", .string("1_000")), SpecMember("r", .string("2024-01-01")),
                    SpecMember("s", .int(12)),
                ]))
    }

    @Test func yamlKeysAreAlwaysStrings() throws {
        // `on` is a boolean word in YAML 1.1, but as a key it is the notify field's name.
        #expect(
            try yaml("on: [failed]\n1: x")
                == .object([
                    SpecMember("on", .array([.string("failed")])), SpecMember("1", .string("x")),
                ]))
    }

    @Test func yamlHonoursExplicitTags() throws {
        #expect(
            try yaml("a: !!str 5\nb: !!int \"7\"\nc: !!float 2")
                == .object([
                    SpecMember("a", .string("5")), SpecMember("b", .int(7)), SpecMember("c", .double(2)),
                ]))
        #expect(
            yamlError("a: !!int x")
                == #"invalid YAML at line 1, column 4: "x" does not match its tag tag:yaml.org,2002:int"#)
        #expect(yamlError("a: !custom x") == "invalid YAML at line 1, column 4: unsupported tag !custom")
    }

    @Test func yamlBlockScalarsAreStrings() throws {
        #expect(
            try yaml("a: |\n  echo 1\n  echo 2\nb: >-\n  42\n")
                == .object([
                    SpecMember("a", .string("echo 1\necho 2\n")), SpecMember("b", .string("42")),
                ]))
    }

    @Test func yamlExpandsAliasesAndMergeKeys() throws {
        let value = try yaml(
            """
            base: &base {retries: 2, cwd: /tmp}
            task:
              <<: *base
              cwd: /srv
            list: [*base]
            """)
        #expect(
            value["task"]
                == .object([
                    SpecMember("cwd", .string("/srv")), SpecMember("retries", .int(2)),
                ]))
        #expect(
            value["list"] == .array([.object([SpecMember("retries", .int(2)), SpecMember("cwd", .string("/tmp"))])]))
    }

    @Test func yamlRefusesAliasBombs() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(refs)]")
        }
        #expect(yamlError(lines.joined(separator: "\n")) == "invalid YAML: aliases expand to too many values")
    }

    @Test func yamlSyntaxErrorsGiveLineAndColumn() {
        #expect(yamlError("tasks:\n  - name: a\n   command: b\n")?.hasPrefix("invalid YAML at line 3, column") == true)
        #expect(yamlError("a: [1, 2\n") != nil)
        #expect(
            yamlError("a: 1\n---\nb: 2\n")
                == "invalid YAML at line 2, column 1: expected a single document, found another")
        #expect(yamlError("a: 1\na: 2\n") == #"invalid YAML at line 1, column 1: duplicate key "a""#)
        #expect(yamlError("a: *nope\n")?.hasPrefix("invalid YAML at line 1, column 4: found undefined alias") == true)
        #expect(yamlError("") == "the spec is empty")
        #expect(yamlError("# only a comment\n") == "the spec is empty")
    }

    @Test func yamlRejectsInvalidUTF8() {
        var data = Data("name: ".utf8)
        data.append(contentsOf: [0xFF, 0x41])
        #expect(throws: SpecError(path: "", message: "the spec is not valid UTF-8 (at byte 6)")) {
            try SpecValue.parseYAML(data)
        }
    }

    @Test func autoFormatSniffsTheFirstNonBlankByte() {
        #expect(SpecParser.looksLikeJSON(Data("  \n\t{\"a\": 1}".utf8)))
        #expect(SpecParser.looksLikeJSON(Data([0xEF, 0xBB, 0xBF, UInt8(ascii: "{")])))
        #expect(!SpecParser.looksLikeJSON(Data("tasks: []".utf8)))
        #expect(!SpecParser.looksLikeJSON(Data("[1]".utf8)))
        #expect(!SpecParser.looksLikeJSON(Data()))
    }

    @Test func writerQuotesAndSortsCanonically() {
        let value = SpecValue.object([
            SpecMember("b", .array([.int(1), .double(2.5), .double(300), .null, .bool(false)])),
            SpecMember("a", .string("q\"\\\n\u{1}é")),
        ])
        #expect(
            String(decoding: value.jsonData(), as: UTF8.self) == #"{"a":"q\"\\\n\u0001é","b":[1,2.5,300,null,false]}"#)
    }

    @Test func writerOutputReadsBackToTheSameTree() throws {
        let value = SpecValue.object([
            SpecMember(
                "x", .array([.double(0.1), .double(1e-7), .double(1.5e300), .int(-3), .string("\u{0}\u{7F}😀")])),
            SpecMember("y", .object([SpecMember("", .string(""))])),
        ])
        let back = try SpecValue.parseJSON(value.jsonData())
        #expect(back == .object([value.members![0], value.members![1]]))
    }
}
