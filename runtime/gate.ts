// A pause gate: work that passes `await gate.wait()` holds while the gate is closed. Pausing this way
// stops reading (and, through the replication stream's flow control, the socket) without releasing
// connections, slots or partitions.
export class Gate {
  private opened: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  get closed(): boolean {
    return this.release !== undefined;
  }

  close(): void {
    if (this.release) return;
    this.opened = new Promise((r) => (this.release = r));
  }

  open(): void {
    const r = this.release;
    this.release = undefined;
    r?.();
  }

  wait(): Promise<void> {
    return this.opened;
  }
}
