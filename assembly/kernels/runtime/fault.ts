// Test hook: a kernel that traps, so tests can prove a trap never reaches a user as `unreachable` and
// that the instance is replaced afterwards. Nothing in gencore calls it.

/** Executes `unreachable` (a wasm trap). */
export function trapForTest(): void {
  unreachable();
}
