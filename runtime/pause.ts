// A wait between polls that ends early when woken (a stop, a snapshot request, a failed send), for the
// polling sources.
export class Pause {
  private wakeUp: (() => void) | undefined;

  /** Resolves after `ms`, or at the next wake(). */
  for(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
