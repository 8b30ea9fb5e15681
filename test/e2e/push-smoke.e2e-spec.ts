import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, aVisitCreate, push } from '../support/builders';

describe('push smoke', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('applies a patient and its visit', async () => {
    const token = await p.token();
    const patient = aPatientCreate();
    const visit = aVisitCreate(patient.id);
    const r = await push(p.baseUrl, token, { deviceId: 'tab-1', mutations: [visit, patient] });
    expect(r.status).toBe(200);
    expect(r.json.results?.map((x) => x.status)).toEqual(['applied', 'applied']);
  });
});
