// A small in-process queue for work that must happen after the HTTP response (so the response cannot
// reveal, by its timing, what the work found). Bounded: when full, `push` refuses instead of growing.
export class BackgroundQueue {
  readonly #pending = new Set<Promise<void>>();
  readonly #waiting: Array<() => Promise<void>> = [];
  #running = 0;

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues a task; false when the queue is full (the caller answers 503). */
  push(task: () => Promise<void>): boolean {
    if (this.#waiting.length + this.#running >= this.capacity) return false;
    this.#waiting.push(task);
    this.#pump();
    return true;
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const task = this.#waiting.shift()!;
      this.#running++;
      const p = task()
        .catch(this.onError)
        .finally(() => {
          this.#running--;
          this.#pending.delete(p);
          this.#pump();
        });
      this.#pending.add(p);
    }
  }

  get size(): number {
    return this.#waiting.length + this.#running;
  }

  /** Resolves when every queued task has finished (tests; graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 || this.#waiting.length > 0) {
      await Promise.allSettled([...this.#pending]);
    }
  }
}
