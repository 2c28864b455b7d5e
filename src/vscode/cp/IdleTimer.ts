/** Runs a task once `delay` ms have passed since the last trigger(); cancel() forgets it. */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly delay: number) {}

  trigger(task: () => void): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      task();
    }, this.delay);
    // An idle child is no reason to keep this process alive.
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
