import fc from 'fast-check';
import { cloudEvent, cloudEventJson } from './cloud-event';

const anInput = fc.record({
  id: fc.uuid(),
  source: fc.string(),
  type: fc.string(),
  subject: fc.string(),
  time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  tenantId: fc.string({ unit: 'binary' }),
  correlationId: fc.string({ unit: 'binary' }),
});

describe('cloudEventJson (an event whose data is JSON text already)', () => {
  it('is the JSON of the CloudEvents envelope with that data', () => {
    fc.assert(
      fc.property(anInput, fc.jsonValue(), (input, data) => {
        expect(cloudEventJson(input, JSON.stringify(data))).toBe(JSON.stringify(cloudEvent({ ...input, data })));
      }),
      { numRuns: 500 },
    );
  });
});
