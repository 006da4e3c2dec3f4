import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { CombinedError } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { useSession } from '../auth/SessionProvider';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import { formatDateTime, formatInteger, humanize } from '../shared/format';
import { channelLabels } from '../members/member-format';
import { ActorName } from '../shared/ActorName';
import { ownValue } from '../shared/lookup';
import { can } from '../shared/permissions';
import { Badge, Card, ConfirmAction, DataTable, ErrorBox, Field, PageHeader, Stat, type Tone } from '../shared/ui';
import { canonicalColumns, ImportsApi, optionalColumns, type CanonicalColumn, type ImportJob, type ImportState } from './imports-api';

const POLL_MS = 500;
const channelKinds = ['WEB', 'APP', 'STORE', 'CALL_CENTER', 'MARKETPLACE'] as const;
/** A kind as every other page names it ("Call centre"), or in words when the file named one the app does not know. */
const kindLabel = (kind: string) => ownValue(channelLabels, kind) ?? humanize(kind);
const stateTones: Record<ImportState, Tone> = { UPLOADED: 'info', QUEUED: 'info', RUNNING: 'info', INTERRUPTED: 'warn', FAILED: 'bad', DONE: 'good' };
const stateLabels: Record<ImportState, string> = { UPLOADED: 'To map', QUEUED: 'Queued', RUNNING: 'Running', INTERRUPTED: 'Interrupted', FAILED: 'Failed', DONE: 'Done' };

function useImportsApi(): ImportsApi {
  const { signOut } = useSession();
  return useMemo(() => new ImportsApi(() => signOut('expired')), [signOut]);
}

/**
 * Transaction import: upload a CSV (or gzip of one), map its columns, watch it run, download the rejected rows, and
 * resume an import that was stopped. The API imports as `npm run import` does (docs/guides/importing.md).
 */
export function ImportPage() {
  const { id } = useParams();
  const navigate = useNavigate();
  const api = useImportsApi();
  const [jobs, setJobs] = useState<ImportJob[]>();
  const [listError, setListError] = useState<CombinedError>();
  const reloadList = useCallback(() => {
    api.list().then(setJobs, setListError);
  }, [api]);
  useEffect(reloadList, [reloadList]);
  // The open import's progress, polled by its detail card, shown in its row of the list too.
  const showInList = useCallback((job: ImportJob) => setJobs((listed) => listed?.map((j) => (j.id === job.id ? job : j))), []);

  return (
    <section className="page" aria-label="Import">
      <PageHeader title="Import transactions" summary="Past orders and returns from a CSV file, credited with points by the programme's rules at each order's own time." />
      <UploadCard
        api={api}
        onUploaded={(job) => {
          reloadList();
          navigate(`/operations/import/${job.id}`);
        }}
      />
      {id && (
        <ImportDetail
          key={id}
          api={api}
          id={id}
          onChanged={reloadList}
          onProgress={showInList}
          onDeleted={() => {
            reloadList();
            navigate('/operations/import');
          }}
        />
      )}
      <Card title="Recent imports" testId="imports-card" wide>
        {listError && <ErrorBox error={listError} retry={reloadList} />}
        {jobs && jobs.length === 0 && <p className="empty">No imports yet</p>}
        {jobs && jobs.length > 0 && (
          <DataTable<ImportJob>
            label="Recent imports"
            rows={jobs}
            rowKey={(j) => j.id}
            rowTestId="import-row"
            rowClassName={(j) => (j.id === id ? 'is-selected' : undefined)}
            columns={[
              { header: 'File', cell: (j) => <Link to={`/operations/import/${j.id}`}>{j.fileName}</Link> },
              { header: 'Uploaded', cell: (j) => formatDateTime(j.uploadedAt) },
              { header: 'State', cell: (j) => <Badge tone={stateTones[j.state]}>{stateLabels[j.state]}</Badge> },
              { header: 'Rows', numeric: true, cell: (j) => formatInteger(j.rowsRead) },
              { header: 'Rejected', numeric: true, cell: (j) => formatInteger(j.rejectedRows) },
            ]}
          />
        )}
      </Card>
    </section>
  );
}

function UploadCard({ api, onUploaded }: { api: ImportsApi; onUploaded(job: ImportJob): void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CombinedError>();
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      onUploaded(await api.upload(file));
      setFile(null);
      (event.target as HTMLFormElement).reset();
    } catch (err) {
      setError(err as CombinedError);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Card title="Upload a file" testId="import-upload">
      <form className="upload-form" onSubmit={submit}>
        <Field label="Transactions file" hint="CSV with a header line, or the same compressed with gzip (.csv.gz); one line per order line">
          {(p) => <input {...p} type="file" accept=".csv,.gz,text/csv,application/gzip" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
        </Field>
        <button type="submit" disabled={!file || busy} aria-busy={busy} data-testid="import-upload-submit">
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {error && (
        <p className="error" role="alert" data-testid="import-upload-error">
          {errorMessage(error)}
        </p>
      )}
    </Card>
  );
}

function ImportDetail({ api, id, onChanged, onProgress, onDeleted }: { api: ImportsApi; id: string; onChanged(): void; onProgress(job: ImportJob): void; onDeleted(): void }) {
  const [job, setJob] = useState<ImportJob>();
  const [error, setError] = useState<CombinedError>();
  const [actionError, setActionError] = useState<CombinedError>();
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<CombinedError>();
  const load = useCallback(() => {
    api.get(id).then((j) => {
      setJob(j);
      setError(undefined);
    }, setError);
  }, [api, id]);
  useEffect(load, [load]);
  // Queued: a process that runs imports picks it up within a second or two.
  const isRunning = job?.state === 'RUNNING' || job?.state === 'QUEUED';
  useEffect(() => {
    if (!isRunning) return;
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [isRunning, load]);
  // The list beside shows each import's state too.
  useEffect(() => {
    if (job?.state) onChanged();
  }, [job?.state, onChanged]);
  useEffect(() => {
    if (job) onProgress(job);
  }, [job, onProgress]);

  async function act(action: () => Promise<ImportJob>) {
    setBusy(true);
    setActionError(undefined);
    try {
      setJob(await action());
    } catch (err) {
      setActionError(err as CombinedError);
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorBox error={error} retry={load} testId="import-error" />;
  if (!job) return <p className="muted loading">Loading…</p>;
  return (
    <Card
      title={job.fileName}
      testId="import-detail"
      wide
      actions={
        <span data-testid="import-state">
          <Badge tone={stateTones[job.state]}>{stateLabels[job.state]}</Badge>
        </span>
      }
    >
      <p className="muted small">
        {formatInteger(job.totalBytes)} bytes{job.isGzip ? ' (gzip)' : ''}, uploaded {formatDateTime(job.uploadedAt)}
        {job.settings && ` · into “${job.settings.channelName}” (${kindLabel(job.settings.channelKind).toLowerCase()}, ${job.settings.currency})`}
      </p>
      {job.state === 'UPLOADED' && <MappingForm job={job} busy={busy} onStart={(settings) => act(() => api.start(job.id, settings))} error={actionError} />}
      {job.state !== 'UPLOADED' && job.state !== 'QUEUED' && <Progress job={job} />}
      {job.state === 'QUEUED' && (
        <div className="notice" data-testid="import-queued">
          <p>
            Queued{job.queuedAt && ` ${formatDateTime(job.queuedAt)}`}, waiting for an API process that runs imports to start it (<code>IMPORT_RUNNER</code>); it is
            picked up within a second or two.
          </p>
          <div className="actions">
            <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => api.stop(job.id))} data-testid="import-unqueue">
              Cancel
            </button>
          </div>
        </div>
      )}
      {job.state === 'RUNNING' &&
        (job.stopRequested ? (
          <p className="muted" role="status" data-testid="import-stopping">
            Stopping once the batch in flight is stored…
          </p>
        ) : (
          <div className="actions">
            <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => api.stop(job.id))} data-testid="import-stop">
              Stop after this batch
            </button>
          </div>
        ))}
      {(job.state === 'INTERRUPTED' || job.state === 'FAILED') && (
        <div className="notice" data-testid="import-resumable">
          <p>
            {job.state === 'FAILED' ? `It failed: ${job.error ?? 'see the logs'}.` : job.error ? `${job.error}.` : 'It was stopped.'} Resuming reads the
            file again with the same settings and skips every invoice already imported, so nothing is added twice.
          </p>
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void act(() => api.resume(job.id))} data-testid="import-resume">
              Resume
            </button>
          </div>
        </div>
      )}
      {actionError && job.state !== 'UPLOADED' && (
        <p className="error" role="alert" data-testid="import-action-error">
          {errorMessage(actionError)}
        </p>
      )}
      {job.runs > 0 && job.state !== 'RUNNING' && <Outcome job={job} onDownload={() => act(async () => (await api.downloadRejects(job), job))} />}
      {job.state !== 'RUNNING' && (
        <ConfirmAction
          label="Delete this upload"
          warning="The file, its status and its rejected rows are deleted; the orders it imported stay."
          busy={deleting}
          error={deleteError}
          onConfirm={() => {
            setDeleting(true);
            setDeleteError(undefined);
            api.delete(job.id).then(onDeleted, (err: CombinedError) => {
              setDeleteError(err);
              setDeleting(false);
            });
          }}
          testId="import-delete"
        />
      )}
    </Card>
  );
}

/** For each canonical column, the file's column it is read from; a first guess from the names. */
function MappingForm({ job, busy, error, onStart }: { job: ImportJob; busy: boolean; error: CombinedError | undefined; onStart(settings: Parameters<ImportsApi['start']>[1]): void }) {
  const [chosen, setChosen] = useState<Record<CanonicalColumn, string>>(() => {
    const byCanonical = Object.fromEntries(Object.entries(job.suggestedMap).map(([from, to]) => [to, from]));
    return Object.fromEntries(canonicalColumns.map((c) => [c, byCanonical[c] ?? ''])) as Record<CanonicalColumn, string>;
  });
  const [channelName, setChannelName] = useState('Online shop');
  const [channelKind, setChannelKind] = useState('WEB');
  const [currency, setCurrency] = useState('GBP');
  const [batchInvoices, setBatchInvoices] = useState('500');
  const fields = fieldErrorMap(error);
  const mapError = Object.entries(fields)
    .filter(([k]) => k === 'map' || k.startsWith('map.'))
    .map(([, v]) => v)
    .join('; ');
  const usedBy = new Map(Object.entries(chosen).filter(([, from]) => from).map(([to, from]) => [from, to]));
  // The API hides what a role without personal data may not read (an analyst's), and lets that role start only its own uploads.
  const hasHidden = job.sample.some((row) => row.includes(null));
  const admin = useCurrentAdmin();
  const mayStart = can(admin, 'members:pii') || job.uploadedBy === `admin:${admin.id}`;

  function submit(event: FormEvent) {
    event.preventDefault();
    const map = Object.fromEntries(Object.entries(chosen).filter(([, from]) => from).map(([to, from]) => [from, to])) as Record<string, CanonicalColumn>;
    onStart({ map, channelName: channelName.trim(), channelKind, currency: currency.trim(), batchInvoices: Number(batchInvoices) });
  }

  return (
    <form className="resource-form" onSubmit={submit} data-testid="import-mapping">
      <h3>Columns</h3>
      <div className="form-grid mapping-grid">
        {canonicalColumns.map((c) => (
          <Field key={c} label={humanize(c.replace(/([a-z])([A-Z])/g, '$1_$2'))} hint={optionalColumns.includes(c) ? 'Optional' : undefined}>
            {(p) => (
              <select {...p} name={c} required={!optionalColumns.includes(c)} value={chosen[c]} onChange={(e) => setChosen({ ...chosen, [c]: e.target.value })} data-testid={`map-${c}`}>
                <option value="">{optionalColumns.includes(c) ? '— not in the file —' : 'Choose a column'}</option>
                {job.columns.map((col) => (
                  <option key={col} value={col} disabled={usedBy.has(col) && usedBy.get(col) !== c}>
                    {col}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ))}
      </div>
      {mapError && (
        <p className="field-error" data-testid="field-error">
          {mapError}
        </p>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="First rows of the file">
        <table className="sample" data-testid="import-sample">
          <thead>
            <tr>
              {job.columns.map((col) => (
                <th key={col} scope="col" className={usedBy.has(col) ? 'is-mapped' : 'muted'}>
                  {col}
                  {usedBy.has(col) && <span className="small"> → {usedBy.get(col)}</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {job.sample.map((row, i) => (
              <tr key={i}>
                {job.columns.map((col, j) =>
                  row[j] === null ? (
                    <td key={col} className="muted" title="Hidden for your role" data-testid="sample-hidden">
                      <span aria-hidden="true">•••</span>
                      <span className="sr-only">hidden</span>
                    </td>
                  ) : (
                    <td key={col} className={usedBy.has(col) ? undefined : 'muted'}>
                      {row[j] ?? ''}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hasHidden && (
        <p className="notice small" data-testid="sample-hidden-note">
          Values shown as ••• are hidden for your role: customer ids and columns that are not order data may hold personal details.
        </p>
      )}
      <h3>Where the orders go</h3>
      <div className="form-grid">
        <Field label="Sales channel" hint="Created if new; a re-import into the same channel skips what is there" error={fields.channelName}>
          {(p) => <input {...p} required maxLength={100} value={channelName} onChange={(e) => setChannelName(e.target.value)} />}
        </Field>
        <Field label="Channel kind" error={fields.channelKind}>
          {(p) => (
            <select {...p} value={channelKind} onChange={(e) => setChannelKind(e.target.value)}>
              {channelKinds.map((k) => (
                <option key={k} value={k}>
                  {channelLabels[k]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Currency" hint="Of the prices in the file" error={fields.currency}>
          {(p) => <input {...p} required maxLength={3} value={currency} onChange={(e) => setCurrency(e.target.value)} />}
        </Field>
        <Field label="Invoices per batch" hint="Each batch is one transaction; the result is the same" error={fields.batchInvoices}>
          {(p) => <input {...p} type="number" min={1} max={5000} step={1} value={batchInvoices} onChange={(e) => setBatchInvoices(e.target.value)} />}
        </Field>
      </div>
      {error && Object.keys(fields).length === 0 && (
        <p className="error" role="alert" data-testid="form-error">
          {errorMessage(error)}
        </p>
      )}
      {!mayStart && (
        <p className="notice small" data-testid="import-start-own-only">
          Your role starts only files you uploaded; <ActorName actor={job.uploadedBy} /> uploaded this one.
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={busy || !mayStart} data-testid="import-start">
          Start import
        </button>
      </div>
    </form>
  );
}

function Progress({ job }: { job: ImportJob }) {
  const isRunning = job.state === 'RUNNING';
  const step = job.phase === 'scan' ? 'Checking the file (step 1 of 2)' : job.phase === 'import' ? 'Importing (step 2 of 2)' : null;
  // Scanning is told in bytes read; importing in rows, counted by the scan.
  const [done, total] = job.phase === 'import' && job.totalRows ? [job.rowsRead, job.totalRows] : [job.bytesRead, job.totalBytes];
  const percent = total ? Math.min(100, Math.floor((done / total) * 100)) : 0;
  return (
    <div className="import-progress" data-testid="import-progress">
      {isRunning && (
        <>
          <p data-testid="import-phase">
            {step} · {percent}%
          </p>
          <progress max={total || 1} value={Math.min(done, total)} aria-label="Import progress" data-testid="import-progress-bar" />
        </>
      )}
      <div className="stat-row">
        <Stat label="Rows read" value={formatInteger(job.rowsRead)} testId="import-rows" />
        <Stat label="Rows rejected" value={formatInteger(job.rejectedRows)} testId="import-rejected" />
        <Stat label="Batches written" value={formatInteger(job.batches)} />
      </div>
    </div>
  );
}

function Outcome({ job, onDownload }: { job: ImportJob; onDownload(): void }) {
  const s = job.summary;
  // The API hides them in the file for a role without personal data.
  const withPii = can(useCurrentAdmin(), 'members:pii');
  return (
    <div className="import-outcome" data-testid="import-outcome">
      {s && (
        <p className="muted small" data-testid="import-summary-scope">
          {s.invoicesSkipped > 0
            ? 'What the last run added: invoices an earlier run imported were skipped, and their figures are not counted again here.'
            : 'What the run added:'}
        </p>
      )}
      {s && (
        <dl className="facts" data-testid="import-summary">
          <div>
            <dt>Orders</dt>
            <dd data-testid="import-orders">
              {formatInteger(s.orders)} ({formatInteger(s.guestOrders)} guest)
            </dd>
          </div>
          <div>
            <dt>Returns</dt>
            <dd>{formatInteger(s.returns)}</dd>
          </div>
          <div>
            <dt>Members created</dt>
            <dd>{formatInteger(s.membersCreated)}</dd>
          </div>
          <div>
            <dt>Points</dt>
            <dd>
              {formatInteger(s.pointsEarned)} earned, {formatInteger(s.pointsClawedBack)} clawed back
            </dd>
          </div>
          <div>
            <dt>Already imported</dt>
            <dd data-testid="import-skipped">{formatInteger(s.invoicesSkipped)} invoices skipped</dd>
          </div>
          <div>
            <dt>Took</dt>
            <dd>{s.seconds} s</dd>
          </div>
        </dl>
      )}
      {job.rejectedRows > 0 ? (
        <div className="rejects" data-testid="import-rejects">
          <p>
            {formatInteger(job.rejectedRows)} {job.rejectedRows === 1 ? 'row was' : 'rows were'} not imported
            {s && Object.keys(s.rejects).length > 0 && `: ${Object.entries(s.rejects).map(([reason, n]) => `${reason} (${formatInteger(n)})`).join(', ')}`}. The
            file lists each with its line number and reason; fix them and upload that file.
          </p>
          {!withPii && (
            <p className="notice small" data-testid="import-rejects-hidden">
              Customer ids, and any value that looks like an email address, read “(hidden)” in the file for your role.
            </p>
          )}
          <button type="button" className="secondary" onClick={onDownload} data-testid="import-rejects-download">
            Download rejected rows
          </button>
        </div>
      ) : (
        <p className="muted">No row was rejected.</p>
      )}
    </div>
  );
}
