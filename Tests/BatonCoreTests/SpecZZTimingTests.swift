import Foundation
import Testing

@testable import BatonCore

@Suite struct SpecZZTimingTests {
    @Test func timing() throws {
        let data = SpecGraphTests.layeredSpec(tasks: 100_000, width: 100)
        let clock = ContinuousClock()
        var value: SpecValue = .null
        let t1 = clock.measure { value = try! SpecValue.parseJSON(data) }
        var decoder = SpecDecoder()
        var decoded: DecodedSpec?
        let t2 = clock.measure { decoded = decoder.decodeNative(value.members!, maxTasks: 100_000) }
        var errors: [SpecError] = []
        let t3 = clock.measure { errors = SpecValidator.validate(decoded!) }
        var encoded = Data()
        let t4 = clock.measure { encoded = SpecEncoder.encode(decoded!.spec) }
        let yamlText = String(decoding: data, as: UTF8.self)
        var y: SpecValue = .null
        let t5 = clock.measure { y = try! SpecValue.parseYAML(Data(yamlText.utf8)) }
        print("TIMING json \(t1) decode \(t2) validate \(t3) encode \(t4) (\(encoded.count) bytes) yaml \(t5) errors \(errors.count) \(y == value)")
    }
}
