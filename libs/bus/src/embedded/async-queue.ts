/**
 * A push-to-pull bridge for live subscriptions. Bounded like a NATS subscription: a listener that stops reading
 * loses new messages instead of growing memory without limit.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wakeup: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;

  constructor(
    private readonly limit: number,
    private readonly onEnd: () => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.wakeup) {
      const wake = this.wakeup;
      this.wakeup = undefined;
      wake({ value: item, done: false });
    } else if (this.items.length < this.limit) {
      this.items.push(item);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    const wake = this.wakeup;
    this.wakeup = undefined;
    wake?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.wakeup = resolve;
        });
      },
      return: () => {
        this.items.length = 0;
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
