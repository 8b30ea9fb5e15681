import { OutboxMessage, Tx } from '@clinisync/persistence';
import { AppliedWrite, BatchView, ModuleRules, WriteContext } from '@clinisync/module-runtime';
import { EntityDef } from '@clinisync/sync-core';
import { DrugCatalogueRepository } from './drug-catalogue.repository';
import { controlledDispensingEvent } from './controlled-dispensing.audit';

const DISPENSING = 'dispensing_records';
const CATALOGUE = 'drug_catalogue';

/** Injected side effects, so tests can pin them. */
export interface DispensingPorts {
  newEventId(): string;
}

/**
 * Pharmacy's rules on top of the registry:
 * - a dispensing subject carries its drug's `controlled` flag, read from the catalogue as this
 *   batch sees it (a drug created or changed earlier in the batch counts), so the ability grants a
 *   controlled dispensing only to a pharmacist holding the `controlled-substances` licence; a
 *   denial is audited by the runtime (`write-denied`);
 * - a committed controlled dispensing emits a `controlled-dispensing` audit event in the same
 *   transaction.
 */
export class DispensingRules implements ModuleRules {
  constructor(
    private readonly catalogue: DrugCatalogueRepository,
    private readonly ports: DispensingPorts,
  ) {}

  async subjectAttributes(
    tx: Tx,
    tenantId: string,
    def: EntityDef,
    data: Record<string, unknown>,
    batch: BatchView,
  ): Promise<Record<string, unknown>> {
    if (def.name !== DISPENSING || typeof data.drugId !== 'string') return {};
    const drugId = data.drugId.toLowerCase();
    const inBatch = batch.record(CATALOGUE, drugId);
    // Anything but an explicit `false` counts as controlled (fail closed).
    if (inBatch) return { controlled: inBatch.fields.controlled !== false };
    const flag = (await this.catalogue.controlledFlags(tx, tenantId, [drugId])).get(drugId);
    // A drug that is not in the catalogue is left to the registry's parent check (PARENT_NOT_FOUND).
    return { controlled: flag === undefined ? false : flag !== false };
  }

  async afterWrites(tx: Tx, ctx: WriteContext, writes: AppliedWrite[]): Promise<OutboxMessage[]> {
    const dispensed = writes.filter((w) => w.def.name === DISPENSING && w.action === 'created');
    if (dispensed.length === 0) return [];
    const drugOf = (w: AppliedWrite) => String(w.record.fields.drugId).toLowerCase();
    // Runs after the batch's rows are written: drugs created in the batch are visible here.
    const flags = await this.catalogue.controlledFlags(tx, ctx.tenantId, dispensed.map(drugOf));
    return dispensed
      .filter((w) => flags.get(drugOf(w)) === true)
      .map((w) => controlledDispensingEvent(this.ports.newEventId(), ctx, w));
  }
}
