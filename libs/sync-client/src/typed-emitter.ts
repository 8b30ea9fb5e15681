type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * The part of Node's EventEmitter the SDK offers (`on`, `off`, `once`, `emit`), typed by an event
 * map and free of node:events so the SDK bundles for the browser. Same semantics: listeners run
 * synchronously in the order added, over the list as it was when `emit` began; a listener that
 * throws stops the emit and the error reaches the emitter; `off` removes the last registration
 * of that function, also one added with `once`; `error` is not special.
 */
export class TypedEmitter<Events extends Record<keyof Events, unknown[]>> {
  private readonly listeners = new Map<keyof Events, { fn: Listener<never[]>; once: boolean }[]>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.add(event, listener, false);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.add(event, listener, true);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].fn === (listener as unknown)) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) this.listeners.delete(event);
    return this;
  }

  /** Calls the event's listeners with `args`; whether there were any. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) this.drop(event, entry);
      (entry.fn as unknown as Listener<Events[K]>)(...args);
    }
    return true;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  removeAllListeners<K extends keyof Events>(event?: K): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  private drop(event: keyof Events, entry: { fn: Listener<never[]>; once: boolean }): void {
    const list = this.listeners.get(event);
    const at = list ? list.indexOf(entry) : -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  private add<K extends keyof Events>(event: K, listener: Listener<Events[K]>, once: boolean): this {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn: listener as unknown as Listener<never[]>, once });
    this.listeners.set(event, list);
    return this;
  }
}
