import { EventEmitter } from 'node:events';
import { TypedEmitter } from './typed-emitter';

// The SDK's emitter replaced node:events: callers' on/once/off/emit must behave as before.
// Oracle: Node's EventEmitter, driven by the same script.
type Events = { a: [number]; b: [string, number] };

type Fn = (...args: never[]) => unknown;
interface Emitter {
  on(event: string, fn: Fn): unknown;
  once(event: string, fn: Fn): unknown;
  off(event: string, fn: Fn): unknown;
  emit(event: string, ...args: unknown[]): boolean;
}

function script(e: Emitter): string[] {
  const log: string[] = [];
  const one = (n: number) => log.push(`one ${n}`);
  const two = (n: number) => {
    log.push(`two ${n}`);
    e.off('a', one); // removed during an emit: still called in this one, not the next
  };
  const b = (s: string, n: number) => log.push(`b ${s} ${n}`);
  e.on('a', one);
  e.once('a', two);
  e.on('a', one);
  e.once('b', b);
  e.off('b', b); // a once listener is removed by the function given
  log.push(`emitted ${String(e.emit('a', 1))}`);
  log.push(`emitted ${String(e.emit('a', 2))}`);
  log.push(`emitted ${String(e.emit('b', 'x', 3))}`);
  e.on('b', b);
  e.emit('b', 'y', 4);
  return log;
}

describe('TypedEmitter', () => {
  it('runs listeners as node:events does (order, once, off during emit, return value)', () => {
    expect(script(new TypedEmitter<Events>() as never)).toEqual(script(new EventEmitter() as never));
  });

  it('lets a listener error reach the caller of emit, as node:events does, and counts listeners', () => {
    const e = new TypedEmitter<Events>();
    const later = jest.fn();
    e.on('a', () => {
      throw new Error('boom');
    }).on('a', later);
    expect(() => e.emit('a', 1)).toThrow('boom');
    expect(later).not.toHaveBeenCalled();
    expect(e.listenerCount('a')).toBe(2);
    expect(e.removeAllListeners().listenerCount('a')).toBe(0);
  });
});
