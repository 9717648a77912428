/**
 * A stack's fake clock: real time plus an offset that a test moves forward (an aws:sleep, a grace period, a lease
 * expiring, a step's time running out) instead of waiting. The GitHub emulator, the runbook simulator and every
 * Lambda process of the stack read it. A Lambda process that is running when the clock moves follows it
 * (lambda-runner.ts, `InvokeOptions.clock`): `advance` resolves only once that process reads the new time, so a
 * test can make time pass at an exact point of an invocation — from the emulator's write hook, say, while the
 * function waits for GitHub's answer — and what the function does next never depends on the machine's speed.
 */
export class FakeClock {
  #offsetMs = 0;
  readonly #followers = new Set<(offsetMs: number) => Promise<void>>();

  /** How far the clock is ahead of real time, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** The fake time, in milliseconds since the epoch. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /**
   * Moves the clock `ms` forward. The new time holds at once for every reader in this process; the promise
   * resolves once every follower (a running Lambda process) has it too: at once when none runs.
   */
  async advance(ms: number): Promise<void> {
    this.#offsetMs += ms;
    const offsetMs = this.#offsetMs;
    await Promise.all([...this.#followers].map((tell) => tell(offsetMs)));
  }

  /**
   * Calls `tell` with the new offset at every `advance` until the returned function is called; `advance` waits for
   * the promise `tell` returns.
   */
  follow(tell: (offsetMs: number) => Promise<void>): () => void {
    this.#followers.add(tell);
    return () => {
      this.#followers.delete(tell);
    };
  }
}
