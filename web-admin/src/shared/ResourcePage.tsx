import { useState, type FormEvent, type ReactNode } from 'react';
import type { CombinedError, OperationContext } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { errorMessage, fieldErrorMap } from './errors';
import { humanize } from './format';
import { ownValue } from './lookup';
import { can, type Permission } from './permissions';
import { DataTable, Dialog, Field, FormActions, PageHeader, QueryState, type Column } from './ui';

/** One form control, declared as data. Values travel as strings (and booleans) until `toInput` converts them. */
export interface FormField {
  /** The input field it fills; a dotted name fills a nested object (`params.brand` → `{ params: { brand } }`). */
  name: string;
  /** Tells apart fields that share a name but show at different times, each with its own value; the name when unset. */
  key?: string;
  /** Shown, and sent, only while this holds for the form's values (e.g. the fields of the chosen kind). */
  showWhen?(values: FormValues): boolean;
  label: string;
  kind: 'text' | 'int' | 'select' | 'checkbox' | 'datetime' | 'list';
  options?: readonly string[];
  /** What a select shows for each option; humanized option otherwise. */
  optionLabels?: Readonly<Record<string, string>>;
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
  /** The list query's refetch (urql's); the page asks the network again after a save and on Retry. */
  refetch(context: Partial<OperationContext>): void;
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
  const canManage = can(admin, managePermission);
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
        refetch={props.refetch}
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
              const error = await props.save(toInput(shownFields(fields, values), values), editing.record);
              if (!error) {
                setEditing(null);
                props.refetch({ requestPolicy: 'network-only' });
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
  const shown = shownFields(fields, values);
  const unplaced = Object.keys(fieldMessages).filter((name) => !shown.some((f) => f.name === name));
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
        {shown.map((f) =>
          f.kind === 'checkbox' ? (
            <label key={f.key ?? f.name} className="checkbox">
              <input type="checkbox" name={f.name} checked={values[slotOf(f)] === true} onChange={(e) => set(slotOf(f), e.target.checked)} />
              {f.label}
            </label>
          ) : (
            <Field key={f.key ?? f.name} label={f.label} hint={f.hint} error={fieldMessages[f.name]}>
              {(control) =>
                f.kind === 'select' ? (
                  <select {...control} name={f.name} value={String(values[slotOf(f)])} onChange={(e) => set(slotOf(f), e.target.value)}>
                    {!f.required && <option value="">—</option>}
                    {f.options?.map((o) => (
                      <option key={o} value={o}>
                        {(f.optionLabels && ownValue(f.optionLabels, o)) ?? humanize(o)}
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
                    value={String(values[slotOf(f)])}
                    onChange={(e) => set(slotOf(f), e.target.value)}
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

/** Where a field's value is kept in the form's values. */
const slotOf = (f: FormField) => f.key ?? f.name;

const shownFields = (fields: FormField[], values: FormValues) => fields.filter((f) => !f.showWhen || f.showWhen(values));

/** `record.params.brand` for `params.brand`. */
const valueAt = (record: Record<string, unknown> | null, name: string): unknown =>
  name.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), record);

function valuesFrom(fields: FormField[], record: Record<string, unknown> | null): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = valueAt(record, f.name);
    if (f.kind === 'checkbox') values[slotOf(f)] = record ? v === true : true;
    else if (Array.isArray(v)) values[slotOf(f)] = v.join(', ');
    else if (f.kind === 'datetime' && typeof v === 'string') values[slotOf(f)] = v.slice(0, 16);
    else if (f.kind === 'select' && f.required && v == null) values[slotOf(f)] = f.options?.[0] ?? '';
    else values[slotOf(f)] = v == null ? '' : String(v);
  }
  return values;
}

/** Empty optional fields become null; the API reports anything it cannot accept in `extensions.fields`. */
function toInput(fields: FormField[], values: FormValues): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    const keys = name.split('.');
    const last = keys.pop()!;
    let target = input;
    for (const key of keys) target = (target[key] ??= {}) as Record<string, unknown>;
    target[last] = value;
  };
  for (const f of fields) {
    const v = values[slotOf(f)];
    if (f.kind === 'checkbox') {
      set(f.name, v === true);
      continue;
    }
    const text = String(v).trim();
    if (f.kind === 'list') set(f.name, text ? text.split(',').map((s) => s.trim()).filter(Boolean) : f.required ? [] : null);
    else if (text === '') set(f.name, f.required && f.kind === 'text' ? '' : null);
    else if (f.kind === 'int') set(f.name, Number(text));
    else if (f.kind === 'datetime') set(f.name, new Date(`${text}Z`).toISOString());
    else set(f.name, text);
  }
  return input;
}
