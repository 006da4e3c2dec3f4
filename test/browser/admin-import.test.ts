import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { channelTotals, holdOrders, runImport, syntheticTransactions } from '../support/imports';
import { CANONICAL_COLUMNS, type SourceRecord } from '../../api/src/modules/import/source';

const tmp = mkdtempSync(path.join(tmpdir(), 'admin-import-'));
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', IMPORT_DIR: path.join(tmp, 'imports') });
const b = build(h);

/** The file's own names for the canonical columns: the page has to map three of them. */
const FILE_HEADER = ['Invoice', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'Price', 'Customer ID', 'Country'];

describeInBrowser('admin app: transaction import', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let file: string;
  let records: SourceRecord[];
  let badLine: number;

  beforeAll(async () => {
    await b.baseRate(1, 100);
    records = syntheticTransactions(200);
    // One row the importer refuses: a date in the wrong format.
    records.push({ line: 0, row: { InvoiceNo: '999001', StockCode: 'MUG', Description: 'Enamel mug', Quantity: '1', InvoiceDate: '31/12/2025 10:00', UnitPrice: '2.50', CustomerID: '20001', Country: 'France' } });
    badLine = records.length + 1;
    const csv = stringify([FILE_HEADER, ...records.map((r) => CANONICAL_COLUMNS.map((c) => r.row[c] ?? ''))]);
    file = path.join(tmp, 'shop-history.csv.gz');
    writeFileSync(file, gzipSync(csv));
  });

  it('an admin uploads a gzip file, maps its columns, stops the import midway, resumes it, and downloads the rejected row', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/import');
    await page.getByLabel('Transactions file').setInputFiles(file);
    await page.getByTestId('import-upload-submit').click();
    await page.getByTestId('import-mapping').waitFor();
    expect(await text('import-detail')).toContain('(gzip)');
    // Guessed from the names: Invoice, Price and Customer ID.
    expect(await page.getByTestId('map-InvoiceNo').inputValue()).toBe('Invoice');
    expect(await page.getByTestId('map-UnitPrice').inputValue()).toBe('Price');
    expect(await page.getByTestId('map-CustomerID').inputValue()).toBe('Customer ID');
    expect(await page.getByTestId('import-sample').locator('tbody tr').count()).toBe(5);
    // A required column left unmapped stops the form (the API refuses it too: test/api/import-uploads.test.ts).
    await page.getByTestId('map-CustomerID').selectOption('');
    expect(await page.getByTestId('map-CustomerID').evaluate((el: HTMLSelectElement) => el.validity.valueMissing)).toBe(true);
    await page.getByTestId('map-CustomerID').selectOption('Customer ID');
    const mapping = page.getByTestId('import-mapping');
    // Channel kinds named as on every other page.
    expect(await mapping.getByLabel('Channel kind').locator('option').allTextContents()).toEqual(['Web', 'App', 'Store', 'Call centre', 'Marketplace']);
    await mapping.getByLabel('Sales channel').fill('Old web shop');
    await mapping.getByLabel('Invoices per batch').fill('1');
    await screenshot(page, 'import-mapping');
    await page.getByTestId('import-start').click();

    // The progress bar moves; stopped once some rows are in, the import waits to be resumed.
    await page.getByTestId('import-progress-bar').waitFor();
    await page.waitForFunction(() => /Importing/.test(document.querySelector('[data-testid="import-phase"]')?.textContent ?? ''));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="import-rows-value"]')?.textContent?.replace(/,/g, '')) > 0);
    // Told in rows once the scan has counted them: part of the way, not the whole file read ahead.
    const shown = Number(/(\d+)%/.exec((await text('import-phase')) ?? '')?.[1]);
    expect(shown).toBeLessThan(100);
    await screenshot(page, 'import-running');
    // A batch held back in its transaction: the stop is recorded at once, and the page says it is stopping until the batch commits.
    const hold = await holdOrders(h);
    try {
      await hold.waiting();
      await page.getByTestId('import-stop').click();
      await page.getByTestId('import-stopping').waitFor();
      expect(await page.getByTestId('import-stop').count()).toBe(0);
      expect(await text('import-state')).toBe('Running');
      // The list beside shows the open import's progress as its card does.
      await page.waitForFunction(() => {
        const listed = document.querySelector('[data-testid="import-row"] td:nth-child(4)')?.textContent;
        return listed !== '0' && listed === document.querySelector('[data-testid="import-rows-value"]')?.textContent;
      });
      await screenshot(page, 'import-stopping');
    } finally {
      await hold.release();
    }
    await page.getByTestId('import-resume').waitFor();
    const partial = await channelTotals(h, 'Old web shop');
    const straight = await runImport(h, records, { channelName: 'Straight from the file' });
    expect(partial.orders).toBeLessThan(straight.summary.orders);

    await page.getByTestId('import-resume').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="import-state"]')?.textContent === 'Done', null, { timeout: 60_000 });
    expect(await channelTotals(h, 'Old web shop')).toEqual({ orders: straight.summary.orders, points: straight.summary.pointsEarned });
    expect(await text('import-skipped')).toMatch(/^[1-9][\d,]* invoices skipped$/);
    // The summary is the resumed run's alone, and says so: its orders are fewer than the file's.
    expect(await text('import-summary-scope')).toContain('What the last run added');
    expect(Number((await text('import-orders'))?.split(' ')[0].replace(/,/g, ''))).toBeLessThan(straight.summary.orders);
    expect(await text('import-rejected-value')).toBe('1');
    expect(await text('import-rejects')).toContain('invoice date is not YYYY-MM-DD HH:MM[:SS] (1)');
    await screenshot(page, 'import-done');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-rejects-download').click()]);
    expect(download.suggestedFilename()).toBe('shop-history.rejects.csv');
    const rejects = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(rejects).toHaveLength(2);
    expect(rejects[1]).toBe(`${badLine},invoice date is not YYYY-MM-DD HH:MM[:SS],,999001,MUG,Enamel mug,1,31/12/2025 10:00,2.50,20001,France`);
    expect(await page.getByTestId('import-row').count()).toBe(1);

    // Deleting the upload takes two clicks, leaves the list empty and the imported orders where they are.
    await page.getByTestId('import-delete').click();
    await page.getByTestId('import-delete-confirm').click();
    await page.getByText('No imports yet').waitFor();
    expect(page.url()).toMatch(/\/operations\/import$/);
    expect(await h.sql(`select count(*)::int as n from import_blob_chunk`)).toEqual([{ n: 0 }]);
    expect((await channelTotals(h, 'Old web shop')).orders).toBe(straight.summary.orders);
  }, 90_000);

  it('a queued import (started through a replica with IMPORT_RUNNER=false) says it waits for a runner, and Cancel puts it back to be mapped', async () => {
    const { page } = session;
    const csv = stringify([FILE_HEADER, ...records.slice(0, 3).map((r) => CANONICAL_COLUMNS.map((c) => r.row[c] ?? ''))]);
    const job = await h.app.services.imports.upload(h.orm.em.fork(), Readable.from([Buffer.from(csv)]), 'queued.csv', 'admin:test');
    // As a replica that does not run imports leaves it (test/faults/import-runner.test.ts); this app runs them, but only
    // when asked, and a runner's pick-up is not running here.
    await h.sql(`update import_job set state = 'QUEUED' where id = ?`, [job.id]);
    await signIn(AdminRole.ADMIN, `/operations/import/${job.id}`);
    await page.getByTestId('import-queued').waitFor();
    expect(await text('import-state')).toBe('Queued');
    expect(await text('import-queued')).toContain('IMPORT_RUNNER');
    expect(await page.getByTestId('import-progress').count()).toBe(0);
    await screenshot(page, 'import-queued');
    await page.getByTestId('import-unqueue').click();
    await page.getByTestId('import-mapping').waitFor();
    expect(await text('import-state')).toBe('To map');
    expect(await h.sql(`select state from import_job where id = ?`, [job.id])).toEqual([{ state: 'UPLOADED' }]);
    await page.getByTestId('import-delete').click();
    await page.getByTestId('import-delete-confirm').click();
    await page.getByText('No imports yet').waitFor();
  });

  it('an analyst uploads a file and reads its sample with the personal columns hidden, and starts only their own uploads', async () => {
    const { page } = session;
    const header = [...CANONICAL_COLUMNS, 'Email', 'Phone'];
    const row = ['810001', 'MUG', 'Enamel mug', '1', '2025-03-01 10:00', '4.50', 'C-9001', 'France', 'zoe.martin@mail.example', '+33 6 98 76 54 32'];
    const csv = stringify([header, row, row.map((v, i) => (i === 0 ? '810002' : v))]);
    const uploader = await b.admin(AdminRole.ADMIN);
    const theirs = await h.app.services.imports.upload(h.orm.em.fork(), Readable.from([Buffer.from(csv)]), 'theirs.csv', `admin:${uploader.id}`);
    const own = path.join(tmp, 'analyst-sales.csv');
    writeFileSync(own, csv);

    await signIn(AdminRole.ANALYST, '/operations/import');
    await page.getByTestId('import-upload').waitFor();
    expect(await page.getByRole('navigation', { name: 'Operations' }).getByRole('link').allTextContents()).toContain('Import');
    await page.getByLabel('Transactions file').setInputFiles(own);
    await page.getByTestId('import-upload-submit').click();
    await page.getByTestId('import-mapping').waitFor();
    // The headers and the mapping as for anyone; the customer id, email and phone of each row hidden (the API sends null).
    expect(await page.getByTestId('map-CustomerID').inputValue()).toBe('CustomerID');
    expect(await page.getByTestId('import-sample').locator('th').allTextContents()).toEqual(expect.arrayContaining(['Email', 'Phone']));
    expect(await page.getByTestId('sample-hidden').count()).toBe(6);
    expect(await text('sample-hidden')).toBe('•••hidden');
    expect(await text('sample-hidden-note')).toContain('hidden for your role');
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('Enamel mug');
    for (const personal of ['zoe.martin@mail.example', '+33 6 98 76 54 32', 'C-9001']) expect(body).not.toContain(personal);
    expect(await page.getByTestId('import-start').isEnabled()).toBe(true);
    await screenshot(page, 'import-analyst');

    // Another admin's upload: the analyst's own mapping could import its personal columns where analysts read them.
    await page.goto(new URL(`/operations/import/${theirs.id}`, page.url()).toString());
    await page.getByTestId('import-start-own-only').waitFor();
    await page.waitForFunction((email) => document.querySelector('[data-testid="import-start-own-only"]')?.textContent?.includes(email), uploader.email);
    expect(await page.getByTestId('import-start').isDisabled()).toBe(true);
  });

  it('a marketer has no import tab and a notice instead of the page', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/operations/import');
    await page.getByTestId('operations-forbidden').waitFor();
    expect(await page.getByLabel('Transactions file').count()).toBe(0);
  });
});
