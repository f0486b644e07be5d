/**
 * The V8 flags `lmx` runs with: the shebang of bin/lmx.js and the `serve` npm script carry them (a test
 * checks they match this list), and the tests and benchmarks start servers with them.
 *
 * `--max-semi-space-size=4` (MB): V8's young generation grows to 2 × 16 MB while the server starts and
 * stays that size, resident, for the process's life. At 4 MB a server with bench100m loaded holds about
 * 23 MB less (632 → 609 MB); the scavenges it adds cost about 0.01 ms per generated token
 * (bench/engine-study.md §0g).
 */
export const lmxNodeFlags: readonly string[] = ['--max-semi-space-size=4'];
