import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import {
  ChannelsAndKeysDocument,
  CreateApiKeyDocument,
  CreateSalesChannelDocument,
  RevokeApiKeyDocument,
  RotateApiKeyDocument,
  type ApiKeyFieldsFragment,
  type ApiKeyScope,
  type ChannelsAndKeysQuery,
  type SalesChannelKind,
} from '../gql/graphql';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import { channelLabels } from '../members/member-format';
import { dash, formatDateTime, formatDateTimeSeconds, humanize } from '../shared/format';
import { useNow } from '../shared/use-now';
import { Badge, Card, DataTable, Dialog, Field, FormActions, PageHeader, QueryState, ShownOnce, type Tone } from '../shared/ui';

type ScopeOption = ChannelsAndKeysQuery['apiKeyScopes'][number];
type Channel = ChannelsAndKeysQuery['salesChannels'][number];

// ADMIN is the back office's own channel; the API refuses it for new ones.
const channelKinds: SalesChannelKind[] = ['WEB', 'APP', 'STORE', 'CALL_CENTER', 'MARKETPLACE'];
const MAX_GRACE_SECONDS = 7 * 24 * 3600;
const graceUnits = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;

type Open =
  | { kind: 'channel' }
  | { kind: 'key' }
  | { kind: 'rotate'; key: ApiKeyFieldsFragment }
  | { kind: 'revoke'; key: ApiKeyFieldsFragment }
  | { kind: 'secret'; secret: string; key: ApiKeyFieldsFragment; note?: string };

const dialogTitles: Record<Open['kind'], string> = {
  channel: 'New sales channel',
  key: 'New API key',
  rotate: 'Rotate API key',
  revoke: 'Revoke API key',
  secret: 'Copy the new key',
};

/** Sales channels and their API keys: create a key (shown once), rotate it with a grace period, revoke it. */
export function ChannelsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ChannelsAndKeysDocument });
  const [channelId, setChannelId] = useState('');
  const [open, setOpen] = useState<Open | null>(null);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const close = () => setOpen(null);
  const keys = data?.apiKeys.filter((k) => !channelId || k.channel.id === channelId);
  const now = useNow(data?.apiKeys.map((k) => k.expiresAt) ?? []);
  const replacements = new Map(data?.apiKeys.filter((k) => k.rotatedFromId).map((k) => [k.rotatedFromId!, k]));

  return (
    <section className="page" aria-label="Channels and API keys">
      <PageHeader
        title="Channels & API keys"
        summary="Each storefront, app or till network is a channel; its keys carry the scopes it may use."
        actions={
          <>
            <button type="button" className="secondary" onClick={() => setOpen({ kind: 'channel' })} data-testid="channel-new">
              New channel
            </button>
            <button type="button" onClick={() => setOpen({ kind: 'key' })} disabled={!data?.salesChannels.length} data-testid="api-key-new">
              New API key
            </button>
          </>
        }
      />
      <QueryState fetching={fetching} error={error} hasData={Boolean(data)} retry={reload} testId="channels">
        {data && (
          <>
            <Card title="Sales channels" testId="channels-card">
              {data.salesChannels.length === 0 ? (
                <p className="empty" data-testid="channels-empty">
                  No channels yet. Add one, then give it a key.
                </p>
              ) : (
                <DataTable<Channel>
                  label="Sales channels"
                  rows={data.salesChannels}
                  rowKey={(c) => c.id}
                  rowTestId="channel-row"
                  columns={[
                    { header: 'Name', cell: (c) => c.name },
                    { header: 'Kind', cell: (c) => channelLabels[c.kind] },
                    {
                      header: 'Usable keys',
                      numeric: true,
                      cell: (c) => data.apiKeys.filter((k) => k.channel.id === c.id && isUsable(k, now)).length,
                    },
                    { header: 'Created', cell: (c) => formatDateTime(c.createdAt) },
                  ]}
                />
              )}
            </Card>
            <Card
              title="API keys"
              testId="api-keys-card"
              actions={
                <label>
                  <span className="sr-only">Channel</span>
                  <select value={channelId} onChange={(e) => setChannelId(e.target.value)} data-testid="api-key-channel-filter">
                    <option value="">All channels</option>
                    {data.salesChannels.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </label>
              }
            >
              {keys?.length === 0 ? (
                <p className="empty" data-testid="api-keys-empty">
                  No keys{channelId ? ' for this channel' : ''}.
                </p>
              ) : (
                <DataTable<ApiKeyFieldsFragment>
                  label="API keys"
                  rows={keys ?? []}
                  rowKey={(k) => k.id}
                  rowTestId="api-key-row"
                  columns={[
                    { header: 'Name', cell: (k) => k.name },
                    { header: 'Key', cell: (k) => <span className="mono">lk_{k.prefix}_…</span> },
                    { header: 'Channel', cell: (k) => k.channel.name },
                    { header: 'Scopes', cell: (k) => k.scopes.map(humanize).join(', ') },
                    {
                      header: 'Status',
                      cell: (k) => {
                        const status = keyStatus(k, now, replacements.get(k.id));
                        return (
                          <span data-testid="api-key-status">
                            <Badge tone={status.tone}>{status.label}</Badge>
                          </span>
                        );
                      },
                    },
                    { header: 'Last used', cell: (k) => (k.lastUsedAt ? formatDateTime(k.lastUsedAt) : dash) },
                    {
                      header: 'Actions',
                      cell: (k) =>
                        isUsable(k, now) && (
                          <div className="row-actions">
                            <button type="button" className="secondary small" onClick={() => setOpen({ kind: 'rotate', key: k })} data-testid="api-key-rotate">
                              Rotate
                            </button>
                            <button type="button" className="secondary small" onClick={() => setOpen({ kind: 'revoke', key: k })} data-testid="api-key-revoke">
                              Revoke
                            </button>
                          </div>
                        ),
                    },
                  ]}
                />
              )}
            </Card>
          </>
        )}
      </QueryState>

      {/* One dialog for every step, so that creating or rotating a key goes straight on to showing it. */}
      <Dialog title={open ? dialogTitles[open.kind] : ''} isOpen={open !== null} onClose={close} testId="channels-dialog">
        {open?.kind === 'channel' && (
          <ChannelForm
            onCancel={close}
            onCreated={(c) => {
              close();
              setChannelId(c.id);
              reload();
            }}
          />
        )}
        {open?.kind === 'key' && data && (
          <KeyForm
            channels={data.salesChannels}
            scopes={data.apiKeyScopes}
            initialChannelId={channelId || data.salesChannels[0]?.id || ''}
            onCancel={close}
            onCreated={(secret, key) => {
              setOpen({ kind: 'secret', secret, key });
              reload();
            }}
          />
        )}
        {open?.kind === 'rotate' && (
          <RotateForm
            apiKey={open.key}
            onCancel={close}
            onRotated={(secret, key, note) => {
              setOpen({ kind: 'secret', secret, key, note });
              reload();
            }}
          />
        )}
        {open?.kind === 'revoke' && (
          <RevokeForm
            apiKey={open.key}
            onCancel={close}
            onRevoked={() => {
              close();
              reload();
            }}
          />
        )}
        {open?.kind === 'secret' && (
          <ShownOnce label="API key" value={open.secret} onDone={close} testId="api-key-secret">
            <p>
              “{open.key.name}” for {open.key.channel.name}, with {open.key.scopes.map(humanize).join(', ').toLowerCase()}.
              {open.note && ` ${open.note}`}
            </p>
          </ShownOnce>
        )}
      </Dialog>
    </section>
  );
}

function isUsable(k: ApiKeyFieldsFragment, now: number): boolean {
  return !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > now);
}

function keyStatus(k: ApiKeyFieldsFragment, now: number, replacedBy: ApiKeyFieldsFragment | undefined): { label: string; tone: Tone } {
  if (k.revokedAt) return { label: `Revoked ${formatDateTime(k.revokedAt)}`, tone: 'bad' };
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return { label: replacedBy ? 'Rotated, expired' : 'Expired', tone: 'neutral' };
  if (replacedBy && k.expiresAt) return { label: `Rotated, works until ${formatDateTimeSeconds(k.expiresAt)}`, tone: 'warn' };
  if (k.expiresAt) return { label: `Active until ${formatDateTime(k.expiresAt)}`, tone: 'info' };
  return { label: 'Active', tone: 'good' };
}

function FormError({ error, fields, placed }: { error: CombinedError | undefined; fields: Record<string, string>; placed: string[] }) {
  const unplaced = Object.keys(fields).some((k) => !placed.includes(k));
  if (!error || (Object.keys(fields).length > 0 && !unplaced)) return null;
  return (
    <p className="error" role="alert" data-testid="form-error">
      {errorMessage(error)}
    </p>
  );
}

function ChannelForm({ onCreated, onCancel }: { onCreated(channel: { id: string }): void; onCancel(): void }) {
  const [{ fetching, error }, create] = useMutation(CreateSalesChannelDocument);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SalesChannelKind>('WEB');
  const fields = fieldErrorMap(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await create({ input: { name: name.trim(), kind } });
    if (result.data) onCreated(result.data.createSalesChannel);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="channel-form">
      <div className="form-grid">
        <Field label="Name" error={fields.name}>
          {(p) => <input {...p} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Kind" error={fields.kind}>
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as SalesChannelKind)}>
              {channelKinds.map((k) => (
                <option key={k} value={k}>
                  {channelLabels[k]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <FormError error={error} fields={fields} placed={['name', 'kind']} />
      <FormActions submitLabel="Create channel" busy={fetching} onCancel={onCancel} testId="channel-create" />
    </form>
  );
}

interface KeyFormProps {
  channels: Channel[];
  scopes: ScopeOption[];
  initialChannelId: string;
  onCreated(secret: string, key: ApiKeyFieldsFragment): void;
  onCancel(): void;
}

function KeyForm({ channels, scopes, initialChannelId, onCreated, onCancel }: KeyFormProps) {
  const [{ fetching, error }, create] = useMutation(CreateApiKeyDocument);
  const [channelId, setChannelId] = useState(initialChannelId);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<ApiKeyScope>>(new Set());
  const [expiresAt, setExpiresAt] = useState('');
  const fields = fieldErrorMap(error);
  const toggle = (scope: ApiKeyScope, on: boolean) =>
    setChosen((old) => {
      const next = new Set(old);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await create({
      input: { channelId, name: name.trim(), scopes: [...chosen], expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null },
    });
    if (result.data) onCreated(result.data.createApiKey.key, result.data.createApiKey.apiKey);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="api-key-form">
      <div className="form-grid">
        <Field label="Channel" error={fields.channelId}>
          {(p) => (
            <select {...p} required value={channelId} onChange={(e) => setChannelId(e.target.value)}>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({channelLabels[c.kind].toLowerCase()})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Key name" hint="Where it is used, e.g. “Till 4, Leeds”" error={fields.name}>
          {(p) => <input {...p} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Expires" hint="Empty: until revoked" error={fields.expiresAt}>
          {(p) => <input {...p} type="datetime-local" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} />}
        </Field>
      </div>
      <fieldset className="choice-group" data-testid="api-key-scopes">
        <legend>Scopes</legend>
        <div className="scope-list">
          {scopes.map((s) => (
            <label key={s.scope} className="checkbox">
              <input type="checkbox" name="scope" value={s.scope} checked={chosen.has(s.scope)} onChange={(e) => toggle(s.scope, e.target.checked)} />
              <span>
                <strong>{humanize(s.scope)}</strong> <span className="muted small">{s.description}</span>
                {!s.isCore && <span className="muted small"> (plugin)</span>}
              </span>
            </label>
          ))}
        </div>
        {fields.scopes && (
          <span className="field-error" data-testid="field-error">
            scopes {fields.scopes}
          </span>
        )}
      </fieldset>
      <FormError error={error} fields={fields} placed={['channelId', 'name', 'expiresAt', 'scopes']} />
      <FormActions submitLabel="Create key" busy={fetching} onCancel={onCancel} testId="api-key-create" />
    </form>
  );
}

interface RotateFormProps {
  apiKey: ApiKeyFieldsFragment;
  onRotated(secret: string, key: ApiKeyFieldsFragment, note: string): void;
  onCancel(): void;
}

function RotateForm({ apiKey, onRotated, onCancel }: RotateFormProps) {
  const [{ fetching, error }, rotate] = useMutation(RotateApiKeyDocument);
  const [amount, setAmount] = useState('1');
  const [unit, setUnit] = useState<keyof typeof graceUnits>('hours');
  const fields = fieldErrorMap(error);
  const graceSeconds = Math.round(Number(amount || 0) * graceUnits[unit]);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await rotate({ input: { id: apiKey.id, graceSeconds } });
    if (!result.data) return;
    const until = new Date(Date.now() + graceSeconds * 1000).toISOString();
    const note =
      graceSeconds === 0
        ? 'The old key stopped working at once.'
        : `The old key keeps working until about ${formatDateTimeSeconds(until)}; switch every till and server to this one before then.`;
    onRotated(result.data.rotateApiKey.key, result.data.rotateApiKey.apiKey, note);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="api-key-rotate-form">
      <p>
        A new key replaces “{apiKey.name}” (<span className="mono">lk_{apiKey.prefix}_…</span>) with the same channel and scopes. During the
        grace period both keys work, so clients can switch without downtime; 0 stops the old key at once.
      </p>
      <div className="form-grid">
        <Field label="Grace period" hint="At most 7 days" error={fields.graceSeconds}>
          {(p) => (
            <input
              {...p}
              type="number"
              min={0}
              step="any"
              required
              max={MAX_GRACE_SECONDS / graceUnits[unit]}
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          )}
        </Field>
        <Field label="Unit">
          {(p) => (
            <select {...p} value={unit} onChange={(e) => setUnit(e.target.value as keyof typeof graceUnits)}>
              {Object.keys(graceUnits).map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <FormError error={error} fields={fields} placed={['graceSeconds']} />
      <FormActions submitLabel="Rotate key" busy={fetching} onCancel={onCancel} testId="api-key-rotate-confirm" />
    </form>
  );
}

function RevokeForm({ apiKey, onRevoked, onCancel }: { apiKey: ApiKeyFieldsFragment; onRevoked(): void; onCancel(): void }) {
  const [{ fetching, error }, revoke] = useMutation(RevokeApiKeyDocument);
  const [reason, setReason] = useState('');
  const fields = fieldErrorMap(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await revoke({ input: { id: apiKey.id, reason: reason.trim() || null } });
    if (result.data) onRevoked();
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="api-key-revoke-form">
      <p>
        “{apiKey.name}” (<span className="mono">lk_{apiKey.prefix}_…</span>) of {apiKey.channel.name} stops working at once, everywhere. This
        cannot be undone.
      </p>
      <Field label="Reason" hint="Kept in the audit log" error={fields.reason}>
        {(p) => <input {...p} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <FormError error={error} fields={fields} placed={['reason']} />
      <FormActions submitLabel="Revoke key" busy={fetching} onCancel={onCancel} testId="api-key-revoke-confirm" />
    </form>
  );
}
