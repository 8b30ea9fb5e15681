import { CloudEvent } from '@clinisync/contracts';
import { DISPENSING_CREATED_FILTER, parseDispensingEvent } from './dispensing-event';

const RECORD = '0193f0c2-0000-7000-8000-000000000001';
const DRUG = '0193f0c2-0000-7000-8000-0000000000d1';

function anEvent(overrides: Partial<CloudEvent> = {}, record: Record<string, unknown> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: 'e-1',
    source: 'clinisync/pharmacy',
    type: 'clinisync.pharmacy.dispensing_records.created',
    subject: `dispensing_records/${RECORD}`,
    time: '2026-11-21T10:00:00.000Z',
    datacontenttype: 'application/json',
    tenantid: 't1',
    correlationid: 'c-1',
    data: {
      entity: 'dispensing_records',
      id: RECORD,
      version: 1,
      action: 'created',
      actor: 'u-ph',
      changedFields: [],
      record: {
        id: RECORD,
        facilityId: 'f-1',
        drugId: DRUG,
        quantity: 3,
        dispensedAt: '2026-11-21T09:30:00Z',
        ...record,
      },
    },
    ...overrides,
  };
}

describe('parseDispensingEvent', () => {
  it('consumes every tenant through one subject filter', () => {
    expect(DISPENSING_CREATED_FILTER).toBe('clinical.*.pharmacy.dispensing_records.created');
  });

  it('reads tenant, record, drug, facility and quantity from a dispensing event', () => {
    expect(parseDispensingEvent(anEvent(), 'clinical.t1.pharmacy.dispensing_records.created')).toEqual({
      eventId: 'e-1',
      subject: 'clinical.t1.pharmacy.dispensing_records.created',
      tenantId: 't1',
      correlationId: 'c-1',
      actor: 'u-ph',
      deviceId: undefined,
      dispensingRecordId: RECORD,
      facilityId: 'f-1',
      drugId: DRUG,
      quantity: 3,
      dispensedAt: '2026-11-21T09:30:00.000Z',
    });
  });

  it.each<[string, CloudEvent, string]>([
    [
      'a subject of another tenant than tenantid',
      anEvent(),
      'clinical.t2.pharmacy.dispensing_records.created',
    ],
    [
      'a tenantid with a subject separator',
      anEvent({ tenantid: 't1.x' }),
      'clinical.t1.x.pharmacy.dispensing_records.created',
    ],
    ['no event id', anEvent({ id: '' }), 'clinical.t1.pharmacy.dispensing_records.created'],
    [
      'another entity',
      anEvent({ data: { entity: 'prescriptions', action: 'created', record: {} } }),
      'clinical.t1.pharmacy.dispensing_records.created',
    ],
    [
      'a non-numeric quantity',
      anEvent({}, { quantity: '3' }),
      'clinical.t1.pharmacy.dispensing_records.created',
    ],
    [
      'a drug id that is not a UUID',
      anEvent({}, { drugId: 'x' }),
      'clinical.t1.pharmacy.dispensing_records.created',
    ],
    ['no facility', anEvent({}, { facilityId: '' }), 'clinical.t1.pharmacy.dispensing_records.created'],
  ])('refuses %s', (_name, event, subject) => {
    expect(parseDispensingEvent(event, subject)).toHaveProperty('invalid');
  });
});
