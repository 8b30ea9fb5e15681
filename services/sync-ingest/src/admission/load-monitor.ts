import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { AdmissionRefusalReason } from './admission.errors';
import { LoadProbe } from './admission.service';

const SAMPLE_EVERY_MS = 100;

/**
 * The process's load for admission: event-loop lag (how late a 100 ms timer fires) and the V8
 * heap in use after the last major GC as a percentage of the heap limit (heap in use between
 * collections includes garbage, so it is no sign of pressure by itself).
 */
export class LoadMonitor implements LoadProbe {
  private timer?: NodeJS.Timeout;
  private gc?: PerformanceObserver;
  private expected = 0;
  private lagMs = 0;
  private heapPercent = 0;

  constructor(private readonly bounds: { maxEventLoopLagMs: number; maxHeapPercent: number }) {}

  start(): this {
    this.expected = performance.now() + SAMPLE_EVERY_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - this.expected);
      this.expected = now + SAMPLE_EVERY_MS;
    }, SAMPLE_EVERY_MS);
    this.timer.unref();
    this.gc = new PerformanceObserver((list) => {
      const major = list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (major) this.heapPercent = heapInUsePercent();
    });
    this.gc.observe({ entryTypes: ['gc'] });
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.gc?.disconnect();
  }

  /** Current readings, for metrics. */
  readings(): { eventLoopLagMs: number; heapPercent: number } {
    return { eventLoopLagMs: this.lagMs, heapPercent: this.heapPercent };
  }

  overload(): AdmissionRefusalReason.EVENT_LOOP_LAG | AdmissionRefusalReason.MEMORY | undefined {
    // Between samples a stalled loop shows as the time since the sample was due.
    const lag = Math.max(this.lagMs, performance.now() - this.expected);
    if (this.bounds.maxEventLoopLagMs > 0 && lag > this.bounds.maxEventLoopLagMs) return AdmissionRefusalReason.EVENT_LOOP_LAG;
    if (this.bounds.maxHeapPercent > 0 && this.heapPercent > this.bounds.maxHeapPercent) return AdmissionRefusalReason.MEMORY;
    return undefined;
  }
}

function heapInUsePercent(): number {
  const h = getHeapStatistics();
  return (h.used_heap_size / h.heap_size_limit) * 100;
}
