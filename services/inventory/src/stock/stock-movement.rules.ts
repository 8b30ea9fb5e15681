import { OutboxMessage, Tx } from '@clinisync/persistence';
import { AppliedWrite, ModuleRules, WriteContext } from '@clinisync/module-runtime';
import { StockLevelsService } from './stock-levels.service';

/**
 * Inventory's rules on top of the registry: every pushed stock movement moves its stock level in
 * the same transaction (`StockLevelsService`). Clients never write levels: the registry marks
 * `stock_levels` not client-writable and no role may write it.
 *
 * Adjustments (`kind: adjust`) are restricted to pharmacists and admins by the ability alone:
 * only those two roles may create `stock_movements` at all (libs/auth/src/ability.ts). The
 * runtime offers no per-mutation veto to a rule, so widening that grant must come with a rule
 * for `adjust`; `stock-movement.rules.spec.ts` fails as soon as another role may create movements.
 */
export class StockMovementRules implements ModuleRules {
  constructor(private readonly levels: StockLevelsService) {}

  async afterWrites(tx: Tx, ctx: WriteContext, writes: AppliedWrite[]): Promise<OutboxMessage[]> {
    const movements = writes
      .filter((w) => w.def.name === 'stock_movements' && w.action === 'created')
      .map((w) => w.record);
    if (movements.length === 0) return [];
    return this.levels.post(
      tx,
      {
        tenantId: ctx.tenantId,
        correlationId: ctx.correlationId,
        actor: ctx.principal.sub,
        deviceId: ctx.deviceId,
        now: ctx.now,
      },
      movements,
    );
  }
}
