import { CombinedError } from 'urql';
import { readToken } from '../auth/session';

/** The canonical columns of a transactions file (api modules/import/source.ts), in file order. */
export const canonicalColumns = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;
export type CanonicalColumn = (typeof canonicalColumns)[number];
/** Description and Country may be absent from a file. */
export const optionalColumns: readonly CanonicalColumn[] = ['Description', 'Country'];

export type ImportState = 'UPLOADED' | 'QUEUED' | 'RUNNING' | 'INTERRUPTED' | 'FAILED' | 'DONE';

export interface ImportSettings {
  /** File column → canonical column. */
  map: Record<string, CanonicalColumn>;
  channelName: string;
  channelKind: string;
  currency: string;
  batchInvoices?: number;
}

export interface ImportSummary {
  rowsRead: number;
  linesImported: number;
  orders: number;
  guestOrders: number;
  returns: number;
  pointsEarned: number;
  pointsClawedBack: number;
  membersCreated: number;
  invoicesSkipped: number;
  unmatchedReturnUnits: number;
  rejects: Record<string, number>;
  isComplete: boolean;
  seconds: number;
}

/** What GET /api/imports/:id answers (api modules/import/import-jobs.ts ImportJob; test/unit/import-contract.test.ts keeps the two alike). */
export interface ImportJob {
  id: string;
  fileName: string;
  isGzip: boolean;
  totalBytes: number;
  uploadedAt: string;
  uploadedBy: string;
  columns: string[];
  /** null: hidden from a role that may not read personal data (analysts), as the column may hold some. */
  sample: (string | null)[][];
  suggestedMap: Record<string, CanonicalColumn>;
  state: ImportState;
  settings: ImportSettings | null;
  phase: 'scan' | 'import' | null;
  bytesRead: number;
  totalRows: number | null;
  rowsRead: number;
  rejectedRows: number;
  batches: number;
  runs: number;
  startedAt: string | null;
  finishedAt: string | null;
  summary: ImportSummary | null;
  error: string | null;
  /** RUNNING and asked to stop: it ends INTERRUPTED once the batch in flight commits. */
  stopRequested: boolean;
  /** When it was last queued for a process that runs imports; null if it never was. */
  queuedAt: string | null;
}

/** The REST import API as the pages call it; a failure is a CombinedError, so the usual error helpers read it. */
export class ImportsApi {
  constructor(private readonly onUnauthenticated: () => void) {}

  list = async () => (await this.call<{ imports: ImportJob[] }>('GET', '')).imports;
  get = async (id: string) => (await this.call<{ import: ImportJob }>('GET', `/${id}`)).import;
  upload = async (file: File) => (await this.call<{ import: ImportJob }>('POST', `?fileName=${encodeURIComponent(file.name)}`, file)).import;
  start = async (id: string, settings: ImportSettings) => (await this.call<{ import: ImportJob }>('POST', `/${id}/start`, settings)).import;
  stop = async (id: string) => (await this.call<{ import: ImportJob }>('POST', `/${id}/stop`)).import;
  resume = async (id: string) => (await this.call<{ import: ImportJob }>('POST', `/${id}/resume`)).import;
  delete = async (id: string) => void (await this.call<{ deleted: string }>('DELETE', `/${id}`));

  /** The last run's rejected rows, saved by the browser under the file's name. */
  async downloadRejects(job: ImportJob): Promise<void> {
    const response = await this.fetch('GET', `/${job.id}/rejects`);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `${job.fileName.replace(/(\.csv)?(\.gz)?$/i, '')}.rejects.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async call<T>(method: string, suffix: string, body?: File | object): Promise<T> {
    return (await (await this.fetch(method, suffix, body)).json()) as T;
  }

  private async fetch(method: string, suffix: string, body?: File | object): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${readToken() ?? ''}` };
    let payload: BodyInit | undefined;
    if (body instanceof File) {
      headers['content-type'] = 'application/octet-stream';
      payload = body;
    } else if (body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`/api/imports${suffix}`, { method, headers, body: payload });
    } catch (err) {
      throw new CombinedError({ networkError: err as Error });
    }
    if (response.ok) return response;
    const parsed = (await response.json().catch(() => null)) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
    const error = new CombinedError(parsed?.errors ? { graphQLErrors: parsed.errors } : { networkError: new Error(`HTTP ${response.status}`) });
    if (response.status === 401) this.onUnauthenticated();
    throw error;
  }
}
