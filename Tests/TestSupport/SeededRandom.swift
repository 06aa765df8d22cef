import BootConfig

/// Deterministic pseudo-random numbers (SplitMix64) for the fuzz suites: a failure replays from its seed. The same
/// generator the boot seeds its retry jitter with (`BootConfig.SeededRandom`), under the name the suites use.
public typealias SplitMix64 = SeededRandom
