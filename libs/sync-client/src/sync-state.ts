/**
 * The sync state machine a UI follows: idle -> pushing -> pulling -> idle, or -> error from
 * either phase. A new run may start from idle or error; a push-only run ends pushing -> idle
 * and a pull-only run starts idle -> pulling.
 */
export const SYNC_PHASES = ['idle', 'pushing', 'pulling', 'error'] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];

const ALLOWED: Record<SyncPhase, readonly SyncPhase[]> = {
  idle: ['pushing', 'pulling'],
  pushing: ['pulling', 'idle', 'error'],
  pulling: ['idle', 'error'],
  error: ['pushing', 'pulling', 'idle'],
};

export interface SyncStateChange {
  from: SyncPhase;
  to: SyncPhase;
  at: string;
  error?: Error;
}

export class SyncStateMachine {
  private current: SyncPhase = 'idle';

  constructor(
    private readonly onChange: (change: SyncStateChange) => void,
    private readonly clock: () => Date,
  ) {}

  get state(): SyncPhase {
    return this.current;
  }

  static canTransition(from: SyncPhase, to: SyncPhase): boolean {
    return ALLOWED[from].includes(to);
  }

  transition(to: SyncPhase, error?: Error): void {
    const from = this.current;
    if (!SyncStateMachine.canTransition(from, to))
      throw new Error(`illegal sync state transition ${from} -> ${to}`);
    this.current = to;
    this.onChange({ from, to, at: this.clock().toISOString(), ...(error ? { error } : {}) });
  }
}
