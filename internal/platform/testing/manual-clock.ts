/** A monotonic clock that moves only when the test says so, for adapters that take `clock`. */
export class ManualClock {
  private ms = 1_000

  now(): number {
    return this.ms
  }

  advance(ms: number): void {
    this.ms += ms
  }
}
