import Foundation
import TestSupport
import Testing

/// The shared harness: a seed (printed, overridable), a fixed number of generated inputs per parser, and the
/// counts each run reports. `NODEINIT_FUZZ_SEED=0x...` replays a failing run; `NODEINIT_FUZZ_SCALE=10` runs 10x
/// the inputs (a longer soak), `=0.1` a tenth.
enum FuzzRun {
    static let seed: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["NODEINIT_FUZZ_SEED"] else { return 0x6e6f_6465_6675_7a7a }
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        return UInt64(digits, radix: text.hasPrefix("0x") ? 16 : 10) ?? 0x6e6f_6465_6675_7a7a
    }()

    static let scale: Double = ProcessInfo.processInfo.environment["NODEINIT_FUZZ_SCALE"].flatMap(Double.init) ?? 1

    /// Inputs for one parser: `base` scaled.
    static func count(_ base: Int) -> Int { max(1, Int(Double(base) * scale)) }

    /// A generator for one parser, its seed derived from the run's seed and the parser's name.
    static func generator(_ parser: String) -> SplitMix64 {
        var mixed = seed
        for byte in parser.utf8 { mixed = (mixed ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return SplitMix64(seed: mixed)
    }

    /// Peak resident set of the process, in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// Runs `inputs` rounds of `body`, then prints and checks the tally: the parser must have both accepted and
    /// refused inputs (else the generator is not reaching it), and the process must stay within a memory budget
    /// (every parser bounds what it keeps; a leak or an unbounded buffer over a million inputs would show).
    static func run(
        _ parser: String, inputs: Int, minimumAccepted: Int = 1, minimumRejected: Int = 1,
        _ body: (inout SplitMix64, inout Tally) -> Void
    ) {
        var random = generator(parser)
        var tally = Tally()
        let start = ContinuousClock.now
        for _ in 0..<inputs { body(&random, &tally) }
        let elapsed = ContinuousClock.now - start
        print(
            "ParserFuzz \(parser): seed 0x\(String(seed, radix: 16)), \(inputs) inputs, \(tally.accepted) accepted, "
                + "\(tally.rejected) refused, \(tally.roundTrips) round trips, \(elapsed)")
        #expect(
            tally.accepted >= minimumAccepted, "\(parser): too few inputs accepted (seed 0x\(String(seed, radix: 16)))")
        #expect(
            tally.rejected >= minimumRejected, "\(parser): too few inputs refused (seed 0x\(String(seed, radix: 16)))")
        #expect(peakResidentBytes() < 1 << 30, "\(parser): peak RSS \(peakResidentBytes()) bytes")
    }

    /// The loop of a binary codec: a valid message from `seed` (the codec's own encoding), mutated; what decodes is
    /// `exercise`d, then must decode to itself after `encode` (nil: the codec refuses to encode it again, e.g. a
    /// name a hostile server sent that is too long to send; that is fine).
    static func codecRoundTrips<Message: Equatable>(
        _ parser: String, inputs: Int, alphabet: [UInt8], rounds: Int,
        seed: (inout SplitMix64) -> [UInt8], decode: ([UInt8]) throws -> Message,
        exercise: (Message, [UInt8], inout SplitMix64) -> Void, encode: (Message) -> [UInt8]?
    ) {
        run(parser, inputs: inputs, minimumAccepted: 1_000, minimumRejected: 1_000) { random, tally in
            let input = random.mutate(seed(&random), alphabet: alphabet, rounds: rounds)
            let message: Message
            do { message = try decode(input) } catch {
                tally.rejected += 1
                return
            }
            tally.accepted += 1
            exercise(message, input, &random)
            guard let encoded = encode(message) else { return }
            if let again = try? decode(encoded) {
                if again != message {
                    Issue.record("\(parser) decode -> encode -> decode changed \(message) into \(again)")
                }
                tally.roundTrips += 1
            } else {
                Issue.record("a decoded \(parser) message does not decode after encoding")
            }
        }
    }

    struct Tally {
        var accepted = 0
        var rejected = 0
        var roundTrips = 0
    }
}

/// Structure-aware byte mutations: starting from a valid input, change, insert or delete bytes (drawn from the
/// format's own alphabet half of the time), duplicate or cut a run, or truncate.
extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }

    mutating func mutate(_ input: [UInt8], alphabet: [UInt8], rounds: Int = 4) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + below(rounds)) {
            let position = below(bytes.count + 1)
            let byte =
                next() % 2 == 0 && !alphabet.isEmpty
                ? alphabet[below(alphabet.count)] : UInt8(truncatingIfNeeded: next())
            switch next() % 6 {
            case 0 where position < bytes.count: bytes[position] = byte
            case 1: bytes.insert(byte, at: position)
            case 2 where position < bytes.count: bytes.remove(at: position)
            case 3 where position < bytes.count:
                let end = min(bytes.count, position + 1 + below(16))
                bytes.insert(contentsOf: bytes[position..<end], at: below(bytes.count + 1))
            case 4: bytes = Array(bytes.prefix(position))
            default:
                if position < bytes.count { bytes[position] ^= UInt8(1) << UInt8(below(8)) }
            }
        }
        return bytes
    }
}
