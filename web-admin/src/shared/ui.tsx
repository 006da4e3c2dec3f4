import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { CombinedError, OperationContext } from 'urql';
import { errorMessage, fieldErrorMap } from './errors';

/** The small design system every page builds on: headers, cards, stats, tables, states, dialogs and fields. */

export function PageHeader({ title, summary, actions }: { title: string; summary?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {summary && <p className="page-summary">{summary}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

interface CardProps {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
}

export function Card({ title, actions, children, testId, wide }: CardProps) {
  const id = useId();
  return (
    <section className={wide ? 'card card-wide' : 'card'} aria-labelledby={id} data-testid={testId}>
      <div className="card-header">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId && `${testId}-value`}>
        {value}
      </span>
      {hint && <span className="stat-hint">{hint}</span>}
    </div>
  );
}

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`badge tone-${tone}`}>{children}</span>;
}

/**
 * A form's error that no field on screen shows: none named, or one naming a field the form does not show (a rate
 * limit, a lost connection, a conflict). `placed` lists the fields shown with their errors; `shown` is the field map
 * the form shows, when it adds errors of its own to fieldErrorMap's.
 */
export function FormErrorLine({ error, placed, shown, testId = 'form-error' }: { error: CombinedError | undefined; placed: readonly string[]; shown?: Record<string, string>; testId?: string }) {
  const named = Object.keys(shown ?? fieldErrorMap(error));
  if (!error || (named.length > 0 && named.every((f) => placed.includes(f)))) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {errorMessage(error)}
    </p>
  );
}

export function ErrorBox({ error, retry, testId }: { error: CombinedError; retry?: () => void; testId?: string }) {
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      <p>{errorMessage(error)}</p>
      {retry && (
        <button type="button" className="secondary" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

interface QueryStateProps {
  fetching: boolean;
  error: CombinedError | undefined;
  hasData: boolean;
  isEmpty?: boolean;
  emptyText?: string;
  loadingText?: string;
  /** The error's Retry button, for anything but a urql query. */
  retry?: () => void;
  /** A urql query's refetch: Retry asks the network again rather than the cache. */
  refetch?: (context: Partial<OperationContext>) => void;
  /** Prefix of the state test ids: `<testId>-loading`, `-empty`, `-error`. */
  testId: string;
  children: ReactNode;
}

/** Loading, error and empty states around a query's content. */
export function QueryState({
  fetching,
  error,
  hasData,
  isEmpty,
  emptyText = 'Nothing here yet',
  loadingText = 'Loading…',
  retry,
  refetch,
  testId,
  children,
}: QueryStateProps) {
  const onRetry = retry ?? (refetch && (() => refetch({ requestPolicy: 'network-only' })));
  if (error && !fetching) return <ErrorBox error={error} retry={onRetry} testId={`${testId}-error`} />;
  if (!hasData) {
    return (
      <p className="muted loading" role="status" data-testid={`${testId}-loading`}>
        {loadingText}
      </p>
    );
  }
  if (isEmpty) {
    return (
      <p className="empty" data-testid={`${testId}-empty`}>
        {emptyText}
      </p>
    );
  }
  return <>{children}</>;
}

export interface Column<T> {
  header: string;
  cell(row: T): ReactNode;
  /** Right-aligned, for figures. */
  numeric?: boolean;
}

interface DataTableProps<T> {
  label: string;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  testId?: string;
  rowTestId?: string;
  rowClassName?(row: T): string | undefined;
}

export function DataTable<T>({ label, columns, rows, rowKey, testId, rowTestId, rowClassName }: DataTableProps<T>) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={column.numeric ? 'num' : undefined}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} data-testid={rowTestId} className={rowClassName?.(row)}>
              {columns.map((column) => (
                <td key={column.header} className={column.numeric ? 'num' : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface DialogProps {
  title: string;
  isOpen: boolean;
  onClose(): void;
  children: ReactNode;
  testId?: string;
}

/** A modal on the native <dialog>: focus moves into it, Escape closes it, focus returns afterwards. */
export function Dialog({ title, isOpen, onClose, children, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (isOpen && !dialog.open) dialog.showModal();
    if (!isOpen && dialog.open) dialog.close();
  }, [isOpen]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={id} onClose={onClose} data-testid={testId}>
      <div className="dialog-header">
        <h2 id={id}>{title}</h2>
        <button type="button" className="ghost" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {isOpen && children}
    </dialog>
  );
}

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children(props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }): ReactNode;
}

/** A labelled control with its hint and its error message (from the API's `extensions.fields`). */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && (
        <span className="field-hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={`${id}-error`} data-testid="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

interface FormActionsProps {
  submitLabel: string;
  busy: boolean;
  onCancel(): void;
  /** The submit button's test id. */
  testId?: string;
}

/** A dialog form's submit and Cancel buttons. */
export function FormActions({ submitLabel, busy, onCancel, testId }: FormActionsProps) {
  return (
    <div className="actions">
      <button type="submit" disabled={busy} aria-busy={busy} data-testid={testId}>
        {submitLabel}
      </button>
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

interface ShownOnceProps {
  /** What the value is, e.g. "API key". */
  label: string;
  value: string;
  children?: ReactNode;
  onDone(): void;
  testId: string;
}

/** A secret the API returns only once (an API key, a signing secret): shown read-only, to copy, until dismissed. */
export function ShownOnce({ label, value, children, onDone, testId }: ShownOnceProps) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // No clipboard access (an insecure origin, a denied permission): the field stays selectable.
      setCopied(false);
    }
  }
  return (
    <div className="shown-once" data-testid={testId}>
      <p className="notice">
        Copy the {label} now: it is shown only this once and cannot be read again. If it is lost, rotate it.
      </p>
      {children}
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} className="mono" readOnly value={value} onFocus={(e) => e.target.select()} data-testid={`${testId}-value`} />
        <button type="button" className="secondary" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <div className="actions">
        <button type="button" onClick={onDone} data-testid={`${testId}-done`}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

interface ConfirmActionProps {
  /** The action, as the buttons say it ("Cancel and return 100 points"). */
  label: string;
  /** What happens, shown beside the confirming button. */
  warning: string;
  /** Leaves things as they are. */
  keepLabel?: string;
  busy: boolean;
  error: CombinedError | undefined;
  onConfirm(): void;
  /** The first button; `-confirm` and `-error` are appended for the second step and the refusal. */
  testId: string;
}

/** An action that cannot be undone, in two steps: the button, then a warning with the confirming button, and the API's refusal under them. */
export function ConfirmAction({ label, warning, keepLabel = 'Keep it', busy, error, onConfirm, testId }: ConfirmActionProps) {
  const [isConfirming, setConfirming] = useState(false);
  return (
    <div className="actions">
      {!isConfirming ? (
        <button type="button" className="secondary" onClick={() => setConfirming(true)} data-testid={testId}>
          {label}…
        </button>
      ) : (
        <>
          <span>{warning}</span>
          <button type="button" className="danger" disabled={busy} aria-busy={busy} onClick={onConfirm} data-testid={`${testId}-confirm`}>
            {label}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            {keepLabel}
          </button>
        </>
      )}
      {error && (
        <p className="error" role="alert" data-testid={`${testId}-error`}>
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
