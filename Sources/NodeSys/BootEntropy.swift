import CNodeShim
import Glibc

/// A seed for spreading retries apart, which never waits for the kernel's random generator: PID 1 may run before
/// the CRNG is initialised, and the stdlib's `SystemRandomNumberGenerator` (getrandom without flags) would block
/// the boot there. `getrandom(GRND_NONBLOCK)` when the generator is ready; otherwise the node's own bytes (its MAC
/// address: different on every node of a rack) mixed with the boot-time and wall clocks.
public enum BootEntropy {
    public static func seed(mixing nodeBytes: [UInt8]) -> UInt64 {
        var seed: UInt64 = 0xCBF2_9CE4_8422_2325
        var random: UInt64 = 0
        let count = withUnsafeMutableBytes(of: &random) { nodeinit_getrandom_nonblock($0.baseAddress, $0.count) }
        if count == MemoryLayout<UInt64>.size { seed ^= random }
        var boot = timespec()
        var wall = timespec()
        // Neither clock can fail with a valid clock id and pointer.
        _ = clock_gettime(CLOCK_BOOTTIME, &boot)
        _ = clock_gettime(CLOCK_REALTIME, &wall)
        for value in [
            UInt64(truncatingIfNeeded: boot.tv_nsec), UInt64(truncatingIfNeeded: wall.tv_sec),
            UInt64(truncatingIfNeeded: wall.tv_nsec),
        ] {
            seed = (seed ^ value) &* 0x100_0000_01B3
        }
        for byte in nodeBytes { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return seed
    }
}
