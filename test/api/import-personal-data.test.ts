import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { channelTotals } from '../support/imports';

/**
 * Analysts import transactions (import:run) but never read personal data: every answer of the import API that carries
 * a file's values hides, for a caller without members:pii, the customer ids, the columns that are not order data and any
 * value shaped like an email address; an analyst starts only a file they uploaded. An ADMIN reads the same file whole.
 */
const h = useHarness({ IMPORT_DIR: mkdtempSync(path.join(tmpdir(), 'import-personal-')) });
const b = build(h);

const HEADER = ['Invoice', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'Price', 'Customer', 'Country', 'Email', 'Phone', 'First Name', 'Last Name', 'Birthday'];
/** Five rows, all in the upload's sample; the last two are rejected (a date in the wrong format, a zero quantity). */
const ROWS = [
  ['710001', 'MUG', 'Enamel mug', '2', '2025-03-01 10:00', '4.50', 'ann.lee@shop.example', 'United Kingdom', 'ann.lee@mail.example', '+44 7700 900111', 'Annabel', 'Leeworth', '1984-02-29'],
  ['710002', 'TEA', 'Loose tea', '1', '2025-03-02 11:00', '6.00', 'C-77001', 'France', 'pierre.dumont@mail.example', '+33 6 12 34 56 78', 'Pierrick', 'Dumontel', '1979-07-14'],
  ['710003', 'POT', 'Tea pot', '1', '2025-03-03 12:00', '19.99', 'C-77002', 'Germany', 'greta.voss@mail.example', '+49 151 2345 6789', 'Gretchen', 'Vosskamp', '1990-11-05'],
  ['710004', 'WRAP', 'Gift wrap for tom.baker@mail.example', '1', '31/12/2025 10:00', '1.00', 'tom.baker@shop.example', 'United Kingdom', 'tom.baker@mail.example', '+44 7700 900444', 'Thomasina', 'Bakewell', '1966-01-20'],
  ['710005', 'CARD', 'Greeting card', '0', '2025-03-05 14:00', '2.00', 'C-77005', 'Ireland', 'niamh.kelly@mail.example', '+353 85 123 4567', 'Niamhelle', 'Kellyhan', '2001-05-09'],
];
const CSV = Buffer.from(stringify([HEADER, ...ROWS]));
/** Every personal value of the file: the customer ids, the columns the importer ignores, the email in a description. */
const PERSONAL = [...ROWS.flatMap((r) => r.slice(6, 7).concat(r.slice(8))), 'tom.baker@mail.example'];
const ORDER_VALUES = ['710001', 'MUG', 'Enamel mug', '2025-03-01 10:00', '4.50', 'United Kingdom'];

const present = (text: string) => PERSONAL.filter((v) => text.includes(v));

let admin: { id: string; token: string };
let analyst: { id: string; token: string };
const call = (method: 'get' | 'post', url: string, token: string, body?: object) =>
  h.http()[method](url).set('authorization', `Bearer ${token}`).send(body);
const upload = (token: string, fileName: string) =>
  h.http().post(`/api/imports?fileName=${fileName}`).set('authorization', `Bearer ${token}`).set('content-type', 'application/octet-stream').send(CSV);

async function until(id: string, token: string, done: (job: { state: string }) => boolean) {
  for (let i = 0; i < 600; i++) {
    const res = await call('get', `/api/imports/${id}`, token);
    if (done(res.body.import)) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`import ${id} never got there`);
}

beforeAll(async () => {
  admin = await b.admin(AdminRole.ADMIN);
  analyst = await b.admin(AdminRole.ANALYST);
  await b.baseRate(1, 100);
});

describe('an analyst imports without reading personal data', () => {
  it("hides an upload's personal values from an analyst in the job, the list and every answer, and shows them to an admin", async () => {
    const uploaded = await upload(admin.token, 'customers.csv');
    expect(uploaded.status).toBe(201);
    // The admin reads the file whole.
    expect(present(uploaded.text)).toEqual(PERSONAL);
    const id = uploaded.body.import.id as string;

    for (const res of [await call('get', `/api/imports/${id}`, analyst.token), await call('get', '/api/imports', analyst.token)]) {
      expect(res.status).toBe(200);
      expect(present(res.text)).toEqual([]);
      for (const v of ORDER_VALUES) expect(res.text).toContain(JSON.stringify(v));
    }
    const job = (await call('get', `/api/imports/${id}`, analyst.token)).body.import;
    // The headers and the guessed mapping stay; the hidden cells are null, the order data as it is.
    expect(job.columns).toEqual(HEADER);
    expect(job.suggestedMap).toMatchObject({ Invoice: 'InvoiceNo', Customer: 'CustomerID', Price: 'UnitPrice' });
    expect(job.sample[0]).toEqual(['710001', 'MUG', 'Enamel mug', '2', '2025-03-01 10:00', '4.50', null, 'United Kingdom', null, null, null, null, null]);
    expect(job.sample[3][2]).toBeNull();
    expect((await call('get', `/api/imports/${id}`, admin.token)).body.import.sample[0]).toEqual(ROWS[0]);

    // Another's upload: the analyst's own mapping could import its personal columns where analysts read them.
    const refused = await call('post', `/api/imports/${id}/start`, analyst.token, { map: job.suggestedMap, channelName: 'Analyst shop A', channelKind: 'WEB', currency: 'GBP' });
    expect([refused.status, refused.body.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call('get', `/api/imports/${id}`, admin.token)).body.import.state).toBe('UPLOADED');
  });

  it("lets an analyst upload and run an import, and hides the personal values of its answers and rejected rows; an admin's rejects hold them", async () => {
    const uploaded = await upload(analyst.token, 'mine.csv');
    expect(uploaded.status).toBe(201);
    expect(present(uploaded.text)).toEqual([]);
    const id = uploaded.body.import.id as string;
    const started = await call('post', `/api/imports/${id}/start`, analyst.token, { map: uploaded.body.import.suggestedMap, channelName: 'Analyst shop B', channelKind: 'WEB', currency: 'GBP' });
    expect(started.status).toBe(202);
    expect(present(started.text)).toEqual([]);
    const done = await until(id, analyst.token, (j) => j.state !== 'RUNNING' && j.state !== 'QUEUED');
    expect(done.body.import).toMatchObject({ state: 'DONE', rejectedRows: 2 });
    expect(present(done.text)).toEqual([]);
    expect((await channelTotals(h, 'Analyst shop B')).orders).toBe(3);

    const mine = await call('get', `/api/imports/${id}/rejects`, analyst.token);
    expect(mine.status).toBe(200);
    expect(present(mine.text)).toEqual([]);
    const lines = mine.text.trim().split('\n');
    expect(lines).toEqual([
      'line,reason,detail,InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
      '5,invoice date is not YYYY-MM-DD HH:MM[:SS],,710004,WRAP,(hidden),1,31/12/2025 10:00,1.00,(hidden),United Kingdom',
      '6,zero quantity,,710005,CARD,Greeting card,0,2025-03-05 14:00,2.00,(hidden),Ireland',
    ]);
    const whole = await call('get', `/api/imports/${id}/rejects`, admin.token);
    expect(whole.text).toContain('tom.baker@shop.example');
    expect(whole.text).toContain('Gift wrap for tom.baker@mail.example');
    expect(whole.text).toContain(',C-77005,');
  });
});
