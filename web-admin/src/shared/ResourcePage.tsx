import { useState, type FormEvent, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { errorMessage, fieldErrorMap } from './errors';
import { humanize } from './format';
import { can, type Permission } from './permissions';
import { DataTable, Dialog, Field, FormActions, PageHeader, QueryState, type Column } from './ui';

/** One form control, declared as data. Values travel as strings (and booleans) until `toInput` converts them. */
export interface FormField {
  name: string;
  label: string;
  kind: 'text' | 'int' | 'select' | 'checkbox' | 'datetime' | 'list';
  options?: readonly string[];
  required?: boolean;
  hint?: string;
  /** The record's key (a code): fixed once created. */
  isKey?: boolean;
}

export type FormValues = Record<string, string | boolean>;

interface ResourcePageProps<T> {
  title: string;
  /** "reward": used in "New reward" and "Edit reward". */
  singular: string;
  testId: string;
  rows: T[] | undefined;
  fetching: boolean;
  error: CombinedError | undefined;
  refetch(): void;
  rowKey(row: T): string;
  columns: Column<T>[];
  fields: FormField[];
  managePermission: Permission;
  /** Saves and returns the mutation's error, if any. */
  save(input: Record<string, unknown>, editing: T | null): Promise<CombinedError | undefined>;
  emptyText: string;
  intro?: ReactNode;
}

/** List, create and edit for a catalogue-like resource (rewards, tiers, earning rules, plans). */
export function ResourcePage<T>(props: ResourcePageProps<T>) {
  const { title, singular, testId, rows, fields, managePermission } = props;
  const admin = useCurrentAdmin();
  const canManage = can(admin.role, managePermission);
  const [editing, setEditing] = useState<{ record: T | null } | null>(null);

  const columns: Column<T>[] = canManage
    ? [
        ...props.columns,
        {
          header: 'Actions',
          cell: (row) => (
            <button type="button" className="secondary small" onClick={() => setEditing({ record: row })} data-testid={`${testId}-edit`}>
              Edit
            </button>
          ),
        },
      ]
    : props.columns;

  return (
    <section className="page" aria-label={title}>
      <PageHeader
        title={title}
        summary={rows && `${rows.length} ${rows.length === 1 ? singular : `${singular}s`}`}
        actions={
          canManage && (
            <button type="button" onClick={() => setEditing({ record: null })} data-testid={`${testId}-new`}>
              New {singular}
            </button>
          )
        }
      />
      {props.intro}
      {!canManage && <p className="notice small">Your role can view {title.toLowerCase()} but not change them.</p>}
      <QueryState
        fetching={props.fetching}
        error={props.error}
        hasData={Boolean(rows)}
        isEmpty={rows?.length === 0}
        emptyText={props.emptyText}
        retry={props.refetch}
        testId={testId}
      >
        <DataTable label={title} columns={columns} rows={rows ?? []} rowKey={props.rowKey} testId={`${testId}-table`} rowTestId={`${testId}-row`} />
      </QueryState>
      <Dialog
        title={editing?.record ? `Edit ${singular}` : `New ${singular}`}
        isOpen={Boolean(editing)}
        onClose={() => setEditing(null)}
        testId={`${testId}-dialog`}
      >
        {editing && (
          <ResourceForm
            fields={fields}
            initial={valuesFrom(fields, editing.record as Record<string, unknown> | null)}
            isEdit={Boolean(editing.record)}
            onCancel={() => setEditing(null)}
            onSubmit={async (values) => {
              const error = await props.save(toInput(fields, values), editing.record);
              if (!error) {
                setEditing(null);
                props.refetch();
              }
              return error;
            }}
          />
        )}
      </Dialog>
    </section>
  );
}

interface ResourceFormProps {
  fields: FormField[];
  initial: FormValues;
  isEdit: boolean;
  onSubmit(values: FormValues): Promise<CombinedError | undefined>;
  onCancel(): void;
}

function ResourceForm({ fields, initial, isEdit, onSubmit, onCancel }: ResourceFormProps) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState<CombinedError>();
  const [saving, setSaving] = useState(false);
  const fieldMessages = fieldErrorMap(error);
  const unplaced = Object.keys(fieldMessages).filter((name) => !fields.some((f) => f.name === name));
  const set = (name: string, value: string | boolean) => setValues((v) => ({ ...v, [name]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setError(await onSubmit(values));
    setSaving(false);
  }

  return (
    <form className="resource-form" onSubmit={submit}>
      <div className="form-grid">
        {fields.map((f) =>
          f.kind === 'checkbox' ? (
            <label key={f.name} className="checkbox">
              <input type="checkbox" name={f.name} checked={values[f.name] === true} onChange={(e) => set(f.name, e.target.checked)} />
              {f.label}
            </label>
          ) : (
            <Field key={f.name} label={f.label} hint={f.hint} error={fieldMessages[f.name]}>
              {(control) =>
                f.kind === 'select' ? (
                  <select {...control} name={f.name} value={String(values[f.name])} onChange={(e) => set(f.name, e.target.value)}>
                    {!f.required && <option value="">—</option>}
                    {f.options?.map((o) => (
                      <option key={o} value={o}>
                        {humanize(o)}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    {...control}
                    name={f.name}
                    type={f.kind === 'int' ? 'number' : f.kind === 'datetime' ? 'datetime-local' : 'text'}
                    step={f.kind === 'int' ? 1 : undefined}
                    readOnly={isEdit && f.isKey}
                    required={f.required && f.kind !== 'list'}
                    value={String(values[f.name])}
                    onChange={(e) => set(f.name, e.target.value)}
                  />
                )
              }
            </Field>
          ),
        )}
      </div>
      {error && (Object.keys(fieldMessages).length === 0 || unplaced.length > 0) && (
        <p className="error" role="alert" data-testid="form-error">
          {errorMessage(error)}
        </p>
      )}
      <FormActions submitLabel="Save" busy={saving} onCancel={onCancel} testId="form-save" />
    </form>
  );
}

function valuesFrom(fields: FormField[], record: Record<string, unknown> | null): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = record?.[f.name];
    if (f.kind === 'checkbox') values[f.name] = record ? v === true : true;
    else if (Array.isArray(v)) values[f.name] = v.join(', ');
    else if (f.kind === 'datetime' && typeof v === 'string') values[f.name] = v.slice(0, 16);
    else if (f.kind === 'select' && f.required && v == null) values[f.name] = f.options?.[0] ?? '';
    else values[f.name] = v == null ? '' : String(v);
  }
  return values;
}

/** Empty optional fields become null; the API reports anything it cannot accept in `extensions.fields`. */
function toInput(fields: FormField[], values: FormValues): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === 'checkbox') {
      input[f.name] = v === true;
      continue;
    }
    const text = String(v).trim();
    if (f.kind === 'list') input[f.name] = text ? text.split(',').map((s) => s.trim()).filter(Boolean) : f.required ? [] : null;
    else if (text === '') input[f.name] = f.required && f.kind === 'text' ? '' : null;
    else if (f.kind === 'int') input[f.name] = Number(text);
    else if (f.kind === 'datetime') input[f.name] = new Date(`${text}Z`).toISOString();
    else input[f.name] = text;
  }
  return input;
}
