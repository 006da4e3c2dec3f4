import { useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  CreateSegmentDocument,
  DeleteSegmentDocument,
  MembershipPlansDocument,
  PreviewSegmentDocument,
  SegmentGrammarDocument,
  SegmentMemberCountDocument,
  SegmentsDocument,
  TiersDocument,
  UpdateSegmentDocument,
  type PreviewSegmentQuery,
  type SegmentFieldsFragment,
  type SegmentKind,
} from '../gql/graphql';
import { ActorName } from '../shared/ActorName';
import { errorMessage, fieldErrors } from '../shared/errors';
import { dash, formatDateTime, formatInteger, humanize } from '../shared/format';
import { can } from '../shared/permissions';
import { useDebouncedValue } from '../shared/use-debounced-value';
import { Badge, Card, DataTable, Dialog, ErrorBox, Field, FormActions, PageHeader, QueryState } from '../shared/ui';
import { RuleBuilder } from './RuleBuilder';
import { fromRule, newCondition, newGroup, operatorShapes, toRule, type AttributeInfo, type GroupNode } from './rule-tree';
import { availablePresets, startingRule } from './presets';

const previewDelayMs = 400;

type Sample = PreviewSegmentQuery['previewSegment']['sample'][number];

/** Segments: build a rule visually, watch the member count, save it as DYNAMIC or SNAPSHOT; the saved list below. */
export function SegmentsPage() {
  const admin = useCurrentAdmin();
  const canManage = can(admin, 'segments:manage');
  const [grammar, refetchGrammar] = useQuery({ query: SegmentGrammarDocument });
  const [segments, refetchSegments] = useQuery({ query: SegmentsDocument });
  const [opened, setOpened] = useState<SegmentFieldsFragment | null>(null);
  // Shown above the builder: saving remounts it (keyed by the open segment), so the message lives here.
  const [savedMessage, setSavedMessage] = useState<string>();
  const open = (segment: SegmentFieldsFragment | null, message?: string) => {
    setOpened(segment);
    setSavedMessage(message);
  };
  const reloadSegments = () => refetchSegments({ requestPolicy: 'network-only' });

  return (
    <section className="page" aria-label="Segments">
      <PageHeader title="Segments" summary="Build a rule from member attributes, see who it matches, and save it for campaigns" />
      {savedMessage && (
        <p className="success" role="status" data-testid="save-done">
          {savedMessage}
        </p>
      )}
      <QueryState
        fetching={grammar.fetching}
        error={grammar.error}
        hasData={Boolean(grammar.data)}
        refetch={refetchGrammar}
        loadingText="Loading the rule grammar…"
        testId="grammar"
      >
        {grammar.data && (
          <Builder
            key={opened?.id ?? 'new'}
            grammar={grammar.data.segmentGrammar}
            opened={opened}
            canManage={canManage}
            onSaved={(segment, message) => {
              open(segment, message);
              reloadSegments();
            }}
            onClose={() => open(null)}
          />
        )}
      </QueryState>
      <div className="card-grid">
        <Card title="Saved segments" wide testId="saved-segments">
          <QueryState
            fetching={segments.fetching}
            error={segments.error}
            hasData={Boolean(segments.data)}
            isEmpty={segments.data?.segments.length === 0}
            emptyText="No saved segments yet"
            retry={reloadSegments}
            testId="segments"
          >
            {segments.data && (
              <SegmentList
                segments={segments.data.segments}
                openedId={opened?.id}
                canManage={canManage}
                onOpen={(segment) => open(segment)}
                onDeleted={(id) => {
                  if (opened?.id === id) open(null);
                  reloadSegments();
                }}
              />
            )}
          </QueryState>
        </Card>
      </div>
    </section>
  );
}

interface Grammar {
  attributes: AttributeInfo[];
  operators: { name: string; valueShape: string }[];
  maxDepth: number;
  maxNodes: number;
}

interface BuilderProps {
  grammar: Grammar;
  opened: SegmentFieldsFragment | null;
  canManage: boolean;
  onSaved(segment: SegmentFieldsFragment, message: string): void;
  onClose(): void;
}

function Builder({ grammar, opened, canManage, onSaved, onClose }: BuilderProps) {
  const attributes = grammar.attributes;
  const shapes = useMemo(() => operatorShapes(grammar.operators), [grammar.operators]);
  // `?start=<preset id>` (the dashboard's links) or `?rfmSegment=` (the RFM page's) opens a new segment on that rule.
  const [searchParams] = useSearchParams();
  const [root, setRoot] = useState<GroupNode>(() => {
    if (opened) return fromRule(opened.rule, shapes);
    const start = startingRule(searchParams, attributes);
    return start ? fromRule(start, shapes) : starterRule(attributes);
  });
  const [saveError, setSaveError] = useState<CombinedError>();
  const isSnapshot = opened?.kind === 'SNAPSHOT';
  const compiled = useMemo(() => toRule(root, attributes, shapes), [root, attributes, shapes]);
  const ruleJson = JSON.stringify(compiled.rule);
  const isComplete = compiled.incomplete.size === 0;
  const debouncedJson = useDebouncedValue(ruleJson, previewDelayMs);
  const isSettled = debouncedJson === ruleJson;
  const previewInput = useMemo(() => ({ rule: JSON.parse(debouncedJson) as unknown }), [debouncedJson]);
  const [preview, refetchPreview] = useQuery({
    query: PreviewSegmentDocument,
    variables: { input: previewInput },
    pause: !isComplete || !isSettled,
  });
  const suggestions = useCodeSuggestions();

  // Errors from the preview, or from a save, placed on the node their path names (input.rule.and.1.value → that row).
  const nodeErrors = useMemo(() => {
    const error = saveError ?? (isSettled ? preview.error : undefined);
    return errorsByNode(error, compiled.paths);
  }, [saveError, preview.error, isSettled, compiled.paths]);

  return (
    <div className="card-grid segment-builder">
      <Card
        title={opened ? `Rule of “${opened.name}”` : 'New segment'}
        wide
        testId="segment-rule"
        actions={
          opened && (
            <button type="button" className="secondary small" onClick={onClose} data-testid="segment-new">
              Start a new segment
            </button>
          )
        }
      >
        {isSnapshot && opened && (
          <p className="notice small" data-testid="snapshot-note">
            A snapshot keeps the members it recorded when it was saved, and its rule can no longer change.{' '}
            <SnapshotCount id={opened.id} />
          </p>
        )}
        {!opened && (
          <div className="preset-row" data-testid="segment-presets">
            <span className="muted small">Start from:</span>
            {availablePresets(attributes).map((preset) => (
              <button
                key={preset.id}
                type="button"
                className="secondary small"
                title={preset.description}
                data-testid={`preset-${preset.id}`}
                onClick={() => {
                  setSaveError(undefined);
                  setRoot(fromRule(preset.rule, shapes));
                }}
              >
                {preset.label}
              </button>
            ))}
          </div>
        )}
        <RuleBuilder
          root={root}
          onChange={(next) => {
            setSaveError(undefined);
            setRoot(next);
          }}
          attributes={attributes}
          shapes={shapes}
          suggestions={suggestions}
          errors={nodeErrors}
          maxDepth={grammar.maxDepth}
          readOnly={isSnapshot}
        />
        <details className="rule-json">
          <summary>Rule as JSON (for the API)</summary>
          <pre className="mono small" data-testid="rule-json">
            {JSON.stringify(compiled.rule, null, 2)}
          </pre>
        </details>
      </Card>
      <PreviewCard
        preview={preview.data?.previewSegment}
        isBusy={!isSettled || preview.fetching || preview.stale}
        isComplete={isComplete}
        error={isSettled && isComplete ? preview.error : undefined}
        hasNodeErrors={nodeErrors.size > 0}
        retry={() => refetchPreview({ requestPolicy: 'network-only' })}
      />
      {canManage && !isSnapshot && (
        <SaveCard
          opened={opened}
          rule={compiled.rule}
          isComplete={isComplete}
          onError={setSaveError}
          error={saveError}
          onSaved={onSaved}
        />
      )}
    </div>
  );
}

/** A first condition to edit, so the builder never starts blank. */
function starterRule(attributes: AttributeInfo[]): GroupNode {
  const country = attributes.find((a) => a.name === 'country') ?? attributes[0];
  return newGroup('and', [{ ...newCondition(country), value: country.name === 'country' ? 'GB' : '' }]);
}

/** Tier and plan codes, offered as suggestions in the value box. */
function useCodeSuggestions(): Record<string, string[]> {
  const [tiers] = useQuery({ query: TiersDocument });
  const [plans] = useQuery({ query: MembershipPlansDocument });
  return useMemo(
    () => ({
      tier: tiers.data?.tiers.map((t) => t.code) ?? [],
      membershipPlan: plans.data?.membershipPlans.map((p) => p.code) ?? [],
    }),
    [tiers.data, plans.data],
  );
}

/** API field errors keyed by the node whose path is the longest prefix of theirs; the rest under the root ''. */
function errorsByNode(error: CombinedError | undefined, paths: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { path, message } of fieldErrors(error)) {
    if (!path.startsWith('input.rule')) continue;
    let best: { id: string; path: string } | null = null;
    for (const [id, nodePath] of paths) {
      const isPrefix = path === nodePath || path.startsWith(`${nodePath}.`);
      if (isPrefix && (!best || nodePath.length > best.path.length)) best = { id, path: nodePath };
    }
    if (!best) continue;
    const field = path.slice(best.path.length + 1).replace(/^not\./, '');
    const text = field ? `${field.split('.')[0] === 'value' ? 'Value' : humanize(field.split('.')[0])} ${message}` : message;
    out.set(best.id, [...(out.get(best.id) ?? []), text]);
  }
  return out;
}

interface PreviewCardProps {
  preview: PreviewSegmentQuery['previewSegment'] | undefined;
  isBusy: boolean;
  isComplete: boolean;
  error: CombinedError | undefined;
  hasNodeErrors: boolean;
  retry(): void;
}

function PreviewCard({ preview, isBusy, isComplete, error, hasNodeErrors, retry }: PreviewCardProps) {
  let body;
  if (!isComplete) {
    body = (
      <p className="empty" data-testid="preview-incomplete">
        Fill in every condition to see who matches
      </p>
    );
  } else if (error && !isBusy) {
    body = hasNodeErrors ? (
      <p className="error" role="alert" data-testid="preview-invalid">
        The rule is not valid yet: see the messages next to the conditions
      </p>
    ) : (
      <ErrorBox error={error} retry={retry} testId="preview-error" />
    );
  } else if (!preview) {
    body = (
      <p className="muted loading" role="status" data-testid="preview-loading">
        Counting members…
      </p>
    );
  } else {
    body = (
      <>
        <p className="segment-count">
          <span className="stat-value" data-testid="preview-count">
            {formatInteger(preview.count)}
          </span>{' '}
          {preview.count === 1 ? 'member matches' : 'members match'}
          <span className="muted small"> as of {formatDateTime(preview.asOf)}</span>
        </p>
        {preview.sample.length === 0 ? (
          <p className="empty" data-testid="preview-empty">
            No member matches this rule
          </p>
        ) : (
          <DataTable<Sample>
            label={`Sample: the first ${preview.sample.length} matching members by id`}
            rows={preview.sample}
            rowKey={(m) => m.id}
            rowTestId="preview-sample-row"
            columns={[
              {
                header: 'Member',
                cell: (m) => (
                  // UUIDv7 ids share their leading (time) digits, so the tail tells members apart.
                  <Link to={`/members/${m.id}`} className="mono" title={m.id} aria-label={`Member ${m.id}`}>
                    …{m.id.slice(-12)}
                  </Link>
                ),
              },
              { header: 'Country', cell: (m) => m.country ?? dash },
              { header: 'Tier', cell: (m) => m.tierCode ?? dash },
            ]}
          />
        )}
      </>
    );
  }
  return (
    <Card title="Who matches" testId="segment-preview" actions={<span className="muted small">Sample of up to 20, no personal data</span>}>
      <div aria-live="polite" aria-busy={isBusy} data-testid="preview-panel">
        {body}
      </div>
    </Card>
  );
}

interface SaveCardProps {
  opened: SegmentFieldsFragment | null;
  rule: unknown;
  isComplete: boolean;
  error: CombinedError | undefined;
  onError(error: CombinedError | undefined): void;
  onSaved(segment: SegmentFieldsFragment, message: string): void;
}

function SaveCard({ opened, rule, isComplete, error, onError, onSaved }: SaveCardProps) {
  const [created, create] = useMutation(CreateSegmentDocument);
  const [updated, update] = useMutation(UpdateSegmentDocument);
  const [name, setName] = useState(opened?.name ?? '');
  const [description, setDescription] = useState(opened?.description ?? '');
  const [kind, setKind] = useState<SegmentKind>('DYNAMIC');
  const fetching = created.fetching || updated.fetching;
  const fields = fieldErrors(error);
  const fieldError = (name: string) => fields.filter((f) => f.path === `input.${name}`).map((f) => f.message).join('; ') || undefined;
  const isOnlyRuleErrors = fields.length > 0 && fields.every((f) => f.path.startsWith('input.rule'));
  const formError = error && !fieldError('name') && !fieldError('description') && !isOnlyRuleErrors;

  async function save(event: FormEvent, asNew: boolean) {
    event.preventDefault();
    onError(undefined);
    const base = { name: name.trim(), description: description.trim() || null, rule };
    const result =
      opened && !asNew ? await update({ input: { id: opened.id, ...base } }) : await create({ input: { ...base, kind } });
    if (result.error) {
      onError(result.error);
      return;
    }
    const segment = result.data && ('createSegment' in result.data ? result.data.createSegment : result.data.updateSegment);
    if (!segment) return;
    const count = result.data && 'createSegment' in result.data ? result.data.createSegment.memberCount : null;
    onSaved(segment, `Saved “${segment.name}”${count != null ? ` with ${members(count)}` : ''}`);
  }

  return (
    <Card title={opened ? 'Save changes' : 'Save segment'} testId="segment-save">
      <form className="resource-form" onSubmit={(e) => save(e, false)} aria-label="Save segment">
        <Field label="Name" error={fieldError('name')}>
          {(p) => <input {...p} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} name="name" />}
        </Field>
        <Field label="Description" error={fieldError('description')}>
          {(p) => <input {...p} maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} name="description" />}
        </Field>
        {!opened && (
          <fieldset className="choice-group">
            <legend>Kind</legend>
            <label className="checkbox">
              <input type="radio" name="kind" value="DYNAMIC" checked={kind === 'DYNAMIC'} onChange={() => setKind('DYNAMIC')} />
              <span>
                <strong>Dynamic</strong> <span className="muted small">re-evaluated whenever a campaign uses it</span>
              </span>
            </label>
            <label className="checkbox">
              <input type="radio" name="kind" value="SNAPSHOT" checked={kind === 'SNAPSHOT'} onChange={() => setKind('SNAPSHOT')} data-testid="kind-snapshot" />
              <span>
                <strong>Snapshot</strong> <span className="muted small">records today’s members and never changes</span>
              </span>
            </label>
          </fieldset>
        )}
        {formError && (
          <p className="error" role="alert" data-testid="save-error">
            {errorMessage(error)}
          </p>
        )}
        {isOnlyRuleErrors && (
          <p className="error" role="alert" data-testid="save-error">
            Fix the rule first: see the messages next to the conditions
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={fetching || !isComplete} aria-busy={fetching} data-testid="segment-save-submit">
            {opened ? 'Save changes' : 'Save segment'}
          </button>
          {opened && (
            <button type="button" className="secondary" disabled={fetching || !isComplete} onClick={(e) => save(e, true)}>
              Save as new
            </button>
          )}
        </div>
      </form>
    </Card>
  );
}

function SnapshotCount({ id }: { id: string }) {
  const [{ data, error }] = useQuery({ query: SegmentMemberCountDocument, variables: { id } });
  if (error) return <span className="error">{errorMessage(error)}</span>;
  if (!data) return <span className="muted">Counting its members…</span>;
  return <strong data-testid="snapshot-count">It recorded {members(data.segment.memberCount)}.</strong>;
}

function members(count: number): string {
  return `${formatInteger(count)} ${count === 1 ? 'member' : 'members'}`;
}

interface SegmentListProps {
  segments: SegmentFieldsFragment[];
  openedId: string | undefined;
  canManage: boolean;
  onOpen(segment: SegmentFieldsFragment): void;
  onDeleted(id: string): void;
}

function SegmentList({ segments, openedId, canManage, onOpen, onDeleted }: SegmentListProps) {
  const [deleting, setDeleting] = useState<SegmentFieldsFragment | null>(null);
  return (
    <>
      <DataTable<SegmentFieldsFragment>
        label="Saved segments"
        rows={segments}
        rowKey={(s) => s.id}
        rowTestId="segment-row"
        rowClassName={(s) => (s.id === openedId ? 'is-selected' : undefined)}
        columns={[
          { header: 'Name', cell: (s) => <strong>{s.name}</strong> },
          { header: 'Kind', cell: (s) => <Badge tone={s.kind === 'SNAPSHOT' ? 'info' : 'good'}>{humanize(s.kind)}</Badge> },
          { header: 'Description', cell: (s) => s.description || dash },
          {
            header: 'Created',
            cell: (s) => (
              <>
                {formatDateTime(s.createdAt)} · <ActorName actor={s.createdBy} testId="segment-created-by" />
              </>
            ),
          },
          {
            header: 'Actions',
            cell: (s) => (
              <div className="actions">
                <button type="button" className="secondary small" onClick={() => onOpen(s)} aria-pressed={s.id === openedId} data-testid="segment-open">
                  Open
                </button>
                {canManage && (
                  <button type="button" className="secondary small" onClick={() => setDeleting(s)} data-testid="segment-delete">
                    Delete
                  </button>
                )}
              </div>
            ),
          },
        ]}
      />
      <Dialog title="Delete segment" isOpen={Boolean(deleting)} onClose={() => setDeleting(null)} testId="delete-dialog">
        {deleting && (
          <DeleteForm
            segment={deleting}
            onCancel={() => setDeleting(null)}
            onDone={() => {
              onDeleted(deleting.id);
              setDeleting(null);
            }}
          />
        )}
      </Dialog>
    </>
  );
}

function DeleteForm({ segment, onDone, onCancel }: { segment: SegmentFieldsFragment; onDone(): void; onCancel(): void }) {
  const [{ fetching, error }, remove] = useMutation(DeleteSegmentDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await remove({ id: segment.id });
    if (!result.error) onDone();
  }
  return (
    <form className="resource-form" onSubmit={submit}>
      <p>
        “{segment.name}” will no longer be listed or usable by new campaigns. Its history stays in the audit log.
      </p>
      {error && (
        <p className="error" role="alert">
          {errorMessage(error)}
        </p>
      )}
      <FormActions submitLabel="Delete" busy={fetching} onCancel={onCancel} testId="delete-confirm" />
    </form>
  );
}
