/**
 * Stops what the demo started, in reverse order, exactly once: at the end, on an error, or on Ctrl-C.
 * A server still starting when teardown begins is stopped as soon as it is up, so none is left behind.
 */
export class Teardown {
  readonly #stops: { readonly what: string; readonly stop: () => Promise<void> }[] = [];
  readonly #starting = new Set<Promise<unknown>>();
  #running: Promise<void> | undefined;

  /** Awaits `starting` and registers how to stop what it started. */
  async start<T>(what: string, starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
    const tracked = starting.then((started) => {
      this.#stops.push({ what, stop: () => stop(started) });
      return started;
    });
    this.#starting.add(tracked);
    try {
      return await tracked;
    } finally {
      this.#starting.delete(tracked);
    }
  }

  /** Stops everything (the first call does the work; later calls wait for it). Never rejects. */
  run(report: (line: string) => void): Promise<void> {
    this.#running ??= (async () => {
      await Promise.allSettled([...this.#starting]);
      for (const { what, stop } of this.#stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (error) {
          report(`could not stop ${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.#running;
  }
}
