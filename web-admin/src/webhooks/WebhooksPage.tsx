import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  DisableWebhookDocument,
  RegisterWebhookDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookDocument,
  WebhookDeliveriesDocument,
  WebhookEventTypesDocument,
  WebhooksDocument,
  type EventType,
  type WebhookDeliveriesQuery,
  type WebhookDeliveryStatus,
  type WebhookFieldsFragment,
} from '../gql/graphql';
import { ActorName } from '../shared/ActorName';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import { dash, formatDateTime, formatDateTimeSeconds, formatInteger, humanize } from '../shared/format';
import { Badge, Card, DataTable, Dialog, Field, FormActions, PageHeader, QueryState, ShownOnce, type Tone } from '../shared/ui';

type Delivery = WebhookDeliveriesQuery['webhookDeliveries'][number];

const deliveryTones: Record<WebhookDeliveryStatus, Tone> = { DELIVERED: 'good', PENDING: 'info', FAILED: 'bad', SKIPPED: 'neutral' };

type Open = { kind: 'register' } | { kind: 'secret'; secret: string; webhook: WebhookFieldsFragment; isRotation: boolean };

/** Webhook endpoints: register one (its signing secret shown once), read its deliveries with every attempt, rotate its secret, disable and re-enable it. */
export function WebhooksPage() {
  const { id } = useParams();
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery({ query: WebhooksDocument });
  const [open, setOpen] = useState<Open | null>(null);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const selected = data?.webhooks.find((w) => w.id === id);

  return (
    <section className="page" aria-label="Webhooks">
      <PageHeader
        title="Webhooks"
        summary="Endpoints that receive the programme's events as signed POSTs, retried until they answer 2xx."
        actions={
          <button type="button" onClick={() => setOpen({ kind: 'register' })} data-testid="webhook-new">
            Register endpoint
          </button>
        }
      />
      <QueryState
        fetching={fetching}
        error={error}
        hasData={Boolean(data)}
        isEmpty={data?.webhooks.length === 0}
        emptyText="No endpoints yet"
        retry={reload}
        testId="webhooks"
      >
        <DataTable<WebhookFieldsFragment>
          label="Webhook endpoints"
          rows={data?.webhooks ?? []}
          rowKey={(w) => w.id}
          rowTestId="webhook-row"
          rowClassName={(w) => (w.id === id ? 'is-selected' : undefined)}
          columns={[
            {
              header: 'Endpoint',
              cell: (w) => (
                <Link to={`/operations/webhooks/${w.id}`} data-testid="webhook-link">
                  {w.url}
                </Link>
              ),
            },
            { header: 'Events', cell: (w) => w.eventTypes.map(humanize).join(', ') },
            { header: 'Status', cell: (w) => <WebhookStatus webhook={w} /> },
            { header: 'Deliveries failed in a row (every attempt)', numeric: true, cell: (w) => formatInteger(w.consecutiveFailures) },
          ]}
        />
      </QueryState>
      {id && data && !selected && (
        <p className="empty" data-testid="webhook-not-found">
          No endpoint has this id.
        </p>
      )}
      {selected && <WebhookDetail key={selected.id} webhook={selected} onChanged={reload} onSecret={(secret) => setOpen({ kind: 'secret', secret, webhook: selected, isRotation: true })} />}

      <Dialog title={open?.kind === 'secret' ? 'Copy the signing secret' : 'Register endpoint'} isOpen={open !== null} onClose={() => setOpen(null)} testId="webhook-dialog">
        {open?.kind === 'register' && (
          <RegisterForm
            onCancel={() => setOpen(null)}
            onRegistered={(secret, webhook) => {
              setOpen({ kind: 'secret', secret, webhook, isRotation: false });
              reload();
              navigate(`/operations/webhooks/${webhook.id}`);
            }}
          />
        )}
        {open?.kind === 'secret' && (
          <ShownOnce label="Signing secret" value={open.secret} onDone={() => setOpen(null)} testId="webhook-secret">
            <p>
              {open.isRotation ? 'The old secret stopped working at once: ' : ''}
              {open.webhook.url} checks the <span className="mono">x-loyalty-signature</span> header of each POST with it.
            </p>
          </ShownOnce>
        )}
      </Dialog>
    </section>
  );
}

function WebhookStatus({ webhook: w }: { webhook: WebhookFieldsFragment }) {
  // The API writes "disabled by <actor>" when an operator disables it; any other reason is the dispatcher's own text.
  const disabledBy = w.disabledReason?.match(/^disabled by (\S+)$/)?.[1];
  return (
    <span data-testid="webhook-status">
      {w.isActive ? <Badge tone="good">Active</Badge> : <Badge tone="bad">Disabled</Badge>}
      {!w.isActive && w.disabledReason && (
        <span className="muted small"> {disabledBy ? <>disabled by <ActorName actor={disabledBy} /></> : w.disabledReason}</span>
      )}
    </span>
  );
}

interface DetailProps {
  webhook: WebhookFieldsFragment;
  onChanged(): void;
  onSecret(secret: string): void;
}

function WebhookDetail({ webhook: w, onChanged, onSecret }: DetailProps) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: WebhookDeliveriesDocument, variables: { webhookId: w.id, first: 50 } });
  const [disable, disableWebhook] = useMutation(DisableWebhookDocument);
  const [enable, updateWebhook] = useMutation(UpdateWebhookDocument);
  const [rotate, rotateSecret] = useMutation(RotateWebhookSecretDocument);
  const [isConfirmingRotate, setConfirmingRotate] = useState(false);
  const failure = disable.error ?? enable.error ?? rotate.error;

  async function toggle() {
    const result = w.isActive ? await disableWebhook({ id: w.id }) : await updateWebhook({ input: { id: w.id, isActive: true } });
    if (!result.error) onChanged();
  }
  async function rotateNow() {
    const result = await rotateSecret({ id: w.id });
    setConfirmingRotate(false);
    if (result.data) {
      onSecret(result.data.rotateWebhookSecret.secret);
      onChanged();
    }
  }

  return (
    <>
      <Card
        title="Endpoint"
        testId="webhook-detail"
        actions={
          <div className="row-actions">
            <button type="button" className="secondary" onClick={() => refetch({ requestPolicy: 'network-only' })} data-testid="webhook-refresh">
              Refresh
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmingRotate(true)} data-testid="webhook-rotate">
              Rotate secret
            </button>
            <button type="button" className={w.isActive ? 'secondary' : undefined} onClick={() => void toggle()} disabled={disable.fetching || enable.fetching} data-testid="webhook-toggle">
              {w.isActive ? 'Disable' : 'Re-enable'}
            </button>
          </div>
        }
      >
        <dl className="facts">
          <dt>URL</dt>
          <dd className="mono">{w.url}</dd>
          {w.description && (
            <>
              <dt>Description</dt>
              <dd>{w.description}</dd>
            </>
          )}
          <dt>Status</dt>
          <dd data-testid="webhook-detail-status">
            <WebhookStatus webhook={w} />
          </dd>
          <dt>Events</dt>
          <dd>{w.eventTypes.map(humanize).join(', ')}</dd>
          <dt>Secret</dt>
          <dd data-testid="webhook-secret-rotated">{w.secretRotatedAt ? `Rotated ${formatDateTime(w.secretRotatedAt)}` : `Set ${formatDateTime(w.createdAt)}`}</dd>
          <dt>Registered</dt>
          <dd>
            {formatDateTime(w.createdAt)} by <ActorName actor={w.createdBy} testId="webhook-created-by" />
          </dd>
        </dl>
        {!w.isActive && <p className="notice small">Re-enabling resets the failure count; events recorded while it was disabled are not sent.</p>}
        {failure && (
          <p className="error" role="alert" data-testid="webhook-action-error">
            {errorMessage(failure)}
          </p>
        )}
        {isConfirmingRotate && (
          <div className="notice" data-testid="webhook-rotate-confirm-box">
            <p>The current secret stops working at once: deliveries from now on are signed with the new one.</p>
            <div className="actions">
              <button type="button" onClick={() => void rotateNow()} disabled={rotate.fetching} data-testid="webhook-rotate-confirm">
                Rotate now
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmingRotate(false)}>
                Cancel
              </button>
            </div>
          </div>
        )}
      </Card>
      <Card title="Deliveries" testId="webhook-deliveries" wide>
        <QueryState
          fetching={fetching}
          error={error}
          hasData={Boolean(data)}
          isEmpty={data?.webhookDeliveries.length === 0}
          emptyText="No deliveries yet"
          refetch={refetch}
          testId="deliveries"
        >
          <DataTable<Delivery>
            label="Deliveries"
            rows={data?.webhookDeliveries ?? []}
            rowKey={(d) => d.id}
            rowTestId="delivery-row"
            columns={[
              { header: 'Event', cell: (d) => humanize(d.eventType) },
              { header: 'Status', cell: (d) => <Badge tone={deliveryTones[d.status]}>{humanize(d.status)}</Badge> },
              { header: 'Attempts', cell: (d) => <AttemptLog delivery={d} /> },
              { header: 'Created', cell: (d) => formatDateTimeSeconds(d.createdAt) },
              { header: 'Finished', cell: (d) => (d.finishedAt ? formatDateTimeSeconds(d.finishedAt) : dash) },
            ]}
          />
        </QueryState>
      </Card>
    </>
  );
}

/** Every attempt of a delivery, oldest first: when, the answer (or the error) and how long it took. */
function AttemptLog({ delivery: d }: { delivery: Delivery }) {
  if (d.attemptLog.length === 0) return <span className="muted">Not tried yet</span>;
  return (
    <ol className="attempt-log" data-testid="delivery-attempts">
      {d.attemptLog.map((a) => (
        <li key={a.attempt} data-testid="delivery-attempt">
          <span>#{a.attempt}</span> <span>{formatDateTimeSeconds(a.at)}</span>{' '}
          <Badge tone={a.statusCode != null && a.statusCode < 300 ? 'good' : 'bad'}>{a.statusCode ?? 'no answer'}</Badge>{' '}
          <span className="muted small">{formatInteger(a.durationMs)} ms</span>
          {a.error && <span className="muted small"> {a.error}</span>}
        </li>
      ))}
    </ol>
  );
}

function RegisterForm({ onRegistered, onCancel }: { onRegistered(secret: string, webhook: WebhookFieldsFragment): void; onCancel(): void }) {
  const [types] = useQuery({ query: WebhookEventTypesDocument });
  const [{ fetching, error }, register] = useMutation(RegisterWebhookDocument);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<EventType>>(new Set());
  const fields = fieldErrorMap(error);
  const unplaced = error && (Object.keys(fields).length === 0 || Object.keys(fields).some((k) => !['url', 'description', 'eventTypes'].includes(k)));
  const toggle = (type: EventType, on: boolean) =>
    setChosen((old) => {
      const next = new Set(old);
      if (on) next.add(type);
      else next.delete(type);
      return next;
    });
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await register({ input: { url: url.trim(), description: description.trim() || null, eventTypes: [...chosen] } });
    if (result.data) onRegistered(result.data.registerWebhook.secret, result.data.registerWebhook.webhook);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="webhook-form">
      <div className="form-grid">
        <Field label="URL" hint="https in production" error={fields.url}>
          {(p) => <input {...p} type="url" required maxLength={2000} value={url} onChange={(e) => setUrl(e.target.value)} />}
        </Field>
        <Field label="Description" error={fields.description}>
          {(p) => <input {...p} maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
      </div>
      <fieldset className="choice-group">
        <legend>Events</legend>
        {types.error && <p className="error">{errorMessage(types.error)}</p>}
        <div className="scope-list">
          {types.data?.webhookEventTypes.map((t) => (
            <label key={t.type} className="checkbox">
              <input type="checkbox" checked={chosen.has(t.type)} onChange={(e) => toggle(t.type, e.target.checked)} />
              <span>
                <strong>{humanize(t.type)}</strong> <span className="muted small mono">{t.name}</span>
                {t.description && <span className="muted small"> {t.description}</span>}
              </span>
            </label>
          ))}
        </div>
        {fields.eventTypes && (
          <span className="field-error" data-testid="field-error">
            eventTypes {fields.eventTypes}
          </span>
        )}
      </fieldset>
      {unplaced && (
        <p className="error" role="alert" data-testid="form-error">
          {errorMessage(error)}
        </p>
      )}
      <FormActions submitLabel="Register" busy={fetching} onCancel={onCancel} testId="webhook-register" />
    </form>
  );
}
