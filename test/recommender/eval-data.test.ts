import path from 'node:path';
import { readClean } from '../../recommender/src/eval/clean';
import { FileTxnSource, resolveHeader } from '../../recommender/src/data/file-source';
import { parseColumnMap, parseNaiveTime, SourceError } from '../../recommender/src/data/txn-source';

const fixture = (name: string) => path.join(__dirname, '../fixtures/eval', name);

describe('reading and cleaning a transactions file', () => {
  it('keeps only the rows the protocol keeps: customer present, no C/A+digit invoice, positive quantity and price, real products', async () => {
    const { rows, rawRows, hasProducts } = await readClean(new FileTxnSource(fixture('cleaning.csv')));
    expect(rawRows).toBe(21);
    expect(hasProducts).toBe(true);
    // Kept: a plain sale; CX100 (a C not followed by a digit is a sale); ' 84029g ' trimmed and upper-cased;
    // BAG1 and DOTS, which only start like the non-product codes B and DOT.
    expect(rows.map((t) => [t.invoice, t.stockCode])).toEqual([
      ['536365', '85123A'],
      ['CX100', '22633'],
      ['536384', '84029G'],
      ['536385', 'BAG1'],
      ['536385', 'DOTS'],
    ]);
    expect(rows[0]).toMatchObject({ quantity: 6, unitPrice: 2.55, customerId: '17850', country: 'United Kingdom', time: Date.UTC(2010, 11, 1, 8, 26) });
  });

  it('reads a gzip file the same as the plain one', async () => {
    const plain = await readClean(new FileTxnSource(fixture('cleaning.csv')));
    const gz = await readClean(new FileTxnSource(fixture('cleaning.csv.gz')));
    expect(gz).toEqual(plain);
  });

  it('maps another retailer\'s column names and reads a file without product columns', async () => {
    const map = parseColumnMap('Invoice=InvoiceNo,Price=UnitPrice,Customer ID=CustomerID');
    const source = new FileTxnSource(fixture('churn-only.csv'), map);
    const { rows, hasProducts } = await readClean(source);
    expect(hasProducts).toBe(false);
    expect(rows).toHaveLength(11);
    expect(rows[0]).toEqual({
      invoice: '1', stockCode: null, description: null, quantity: 1, time: Date.UTC(2011, 0, 5, 10), unitPrice: 10, customerId: 'A', country: null,
    });
  });

  it('names the missing columns and suggests --map when the header does not fit', async () => {
    await expect(readClean(new FileTxnSource(fixture('churn-only.csv')))).rejects.toThrow(
      /missing column\(s\) InvoiceNo, UnitPrice, CustomerID .*--map/,
    );
  });
});

describe('--map', () => {
  it('parses TheirName=CanonicalName pairs, spaces inside names included', () => {
    expect([...parseColumnMap(' Invoice = InvoiceNo , Customer ID=CustomerID,')]).toEqual([
      ['Invoice', 'InvoiceNo'],
      ['Customer ID', 'CustomerID'],
    ]);
    expect(parseColumnMap(undefined).size).toBe(0);
  });

  it('rejects a pair without =, an unknown canonical name, and a column mapped twice', () => {
    expect(() => parseColumnMap('Invoice')).toThrow(SourceError);
    expect(() => parseColumnMap('Invoice=Invoice')).toThrow(/not a canonical column/);
    expect(() => parseColumnMap('A=InvoiceNo,B=InvoiceNo')).toThrow(/mapped twice/);
  });

  it('prefers the mapped column over one that already has the canonical name', () => {
    const pos = resolveHeader(['InvoiceNo', 'Invoice', 'InvoiceDate', 'Quantity', 'UnitPrice', 'CustomerID'], parseColumnMap('Invoice=InvoiceNo'));
    expect(pos.InvoiceNo).toBe(1);
    expect(pos.StockCode).toBe(-1);
  });

  it('fails when a mapped column is not in the file', async () => {
    const source = new FileTxnSource(fixture('churn-only.csv'), parseColumnMap('Invoice=InvoiceNo,Price=UnitPrice,Cust=CustomerID'));
    await expect(readClean(source)).rejects.toThrow(/no column "Cust"/);
  });
});

describe('naive timestamps', () => {
  it('reads the canonical layout, ISO with T, and the UCI workbook format as the same wall-clock time', () => {
    const t = Date.UTC(2011, 8, 1, 7, 5);
    expect(parseNaiveTime('2011-09-01 07:05:00')).toBe(t);
    expect(parseNaiveTime('2011-09-01T07:05')).toBe(t);
    expect(parseNaiveTime('9/1/2011 7:05')).toBe(t);
    expect(parseNaiveTime('yesterday')).toBeNaN();
  });
});
