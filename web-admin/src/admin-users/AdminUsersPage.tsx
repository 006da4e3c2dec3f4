import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import {
  AdminUsersDocument,
  CreateAdminUserDocument,
  RevokeAdminSessionsDocument,
  UpdateAdminUserDocument,
  type AdminRole,
  type AdminUserFieldsFragment,
} from '../gql/graphql';
import { errorMessage, fieldErrorMap } from '../shared/errors';
import { dash, formatDateTime, humanize } from '../shared/format';
import { Badge, DataTable, Dialog, Field, FormActions, FormErrorLine, PageHeader, QueryState } from '../shared/ui';

const roles: { role: AdminRole; hint: string }[] = [
  { role: 'ADMIN', hint: 'everything, including channels, keys, webhooks, users and the audit log' },
  { role: 'MARKETER', hint: 'members and their data, rewards, segments and campaigns' },
  { role: 'ANALYST', hint: 'figures, models and segments, without names or contact details' },
];

type Open =
  | { kind: 'create' }
  | { kind: 'role'; user: AdminUserFieldsFragment }
  | { kind: 'disable'; user: AdminUserFieldsFragment }
  | { kind: 'sessions'; user: AdminUserFieldsFragment };

const titles: Record<Open['kind'], string> = { create: 'New admin user', role: 'Change role', disable: 'Disable user', sessions: 'End sessions' };

/** The people who use this app: add one, change their role, disable them, end their sessions. */
export function AdminUsersPage() {
  const me = useCurrentAdmin();
  const [{ data, fetching, error }, refetch] = useQuery({ query: AdminUsersDocument });
  const [enable, enableUser] = useMutation(UpdateAdminUserDocument);
  const [open, setOpen] = useState<Open | null>(null);
  const [notice, setNotice] = useState('');
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const close = () => setOpen(null);
  const done = (message: string) => {
    setNotice(message);
    close();
    reload();
  };

  return (
    <section className="page" aria-label="Admin users">
      <PageHeader
        title="Admin users"
        summary={data && `${data.adminUsers.length} ${data.adminUsers.length === 1 ? 'user' : 'users'}`}
        actions={
          <button type="button" onClick={() => setOpen({ kind: 'create' })} data-testid="admin-user-new">
            New user
          </button>
        }
      />
      {notice && (
        <p className="notice" role="status" data-testid="admin-users-notice">
          {notice}
        </p>
      )}
      {enable.error && (
        <p className="error" role="alert">
          {errorMessage(enable.error)}
        </p>
      )}
      <QueryState fetching={fetching} error={error} hasData={Boolean(data)} retry={reload} testId="admin-users">
        <DataTable<AdminUserFieldsFragment>
          label="Admin users"
          rows={data?.adminUsers ?? []}
          rowKey={(u) => u.id}
          rowTestId="admin-user-row"
          columns={[
            {
              header: 'Email',
              cell: (u) => (
                <>
                  {u.email}
                  {u.id === me.id && <span className="muted small"> (you)</span>}
                </>
              ),
            },
            { header: 'Name', cell: (u) => u.displayName ?? dash },
            { header: 'Role', cell: (u) => <span data-testid="admin-user-role">{humanize(u.role)}</span> },
            {
              header: 'Status',
              cell: (u) => <span data-testid="admin-user-status">{u.disabledAt ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Active</Badge>}</span>,
            },
            { header: 'Last sign-in', cell: (u) => (u.lastLoginAt ? formatDateTime(u.lastLoginAt) : 'never') },
            {
              header: 'Actions',
              cell: (u) => (
                <div className="row-actions">
                  <button type="button" className="secondary small" onClick={() => setOpen({ kind: 'role', user: u })} data-testid="admin-user-change-role">
                    Change role
                  </button>
                  {u.disabledAt ? (
                    <button
                      type="button"
                      className="secondary small"
                      disabled={enable.fetching}
                      onClick={async () => {
                        const result = await enableUser({ input: { id: u.id, isActive: true } });
                        if (!result.error) done(`${u.email} can sign in again.`);
                      }}
                      data-testid="admin-user-enable"
                    >
                      Enable
                    </button>
                  ) : (
                    <>
                      <button type="button" className="secondary small" onClick={() => setOpen({ kind: 'sessions', user: u })} data-testid="admin-user-end-sessions">
                        End sessions
                      </button>
                      <button type="button" className="secondary small" onClick={() => setOpen({ kind: 'disable', user: u })} data-testid="admin-user-disable">
                        Disable
                      </button>
                    </>
                  )}
                  <Link className="small" to={`/operations/audit?actor=${encodeURIComponent(`admin:${u.id}`)}`}>
                    Changes made
                  </Link>
                </div>
              ),
            },
          ]}
        />
      </QueryState>

      <Dialog title={open ? titles[open.kind] : ''} isOpen={open !== null} onClose={close} testId="admin-user-dialog">
        {open?.kind === 'create' && <CreateForm onCancel={close} onCreated={(u) => done(`${u.email} can now sign in as ${humanize(u.role).toLowerCase()}.`)} />}
        {open?.kind === 'role' && <RoleForm user={open.user} onCancel={close} onChanged={(u) => done(`${u.email} is now ${humanize(u.role).toLowerCase()}; it applies from their next request.`)} />}
        {open?.kind === 'disable' && <DisableForm user={open.user} onCancel={close} onDisabled={(u) => done(`${u.email} is disabled and signed out everywhere.`)} />}
        {open?.kind === 'sessions' && <SessionsForm user={open.user} onCancel={close} onRevoked={(n) => done(`Ended ${n} ${n === 1 ? 'session' : 'sessions'} of ${open.user.email}.`)} />}
      </Dialog>
    </section>
  );
}

function RoleSelect({ value, onChange, id, ...rest }: { value: AdminRole; onChange(role: AdminRole): void; id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) {
  return (
    <select id={id} {...rest} value={value} onChange={(e) => onChange(e.target.value as AdminRole)}>
      {roles.map((r) => (
        <option key={r.role} value={r.role}>
          {humanize(r.role)}: {r.hint}
        </option>
      ))}
    </select>
  );
}

function CreateForm({ onCreated, onCancel }: { onCreated(user: AdminUserFieldsFragment): void; onCancel(): void }) {
  const [{ fetching, error }, create] = useMutation(CreateAdminUserDocument);
  const [values, setValues] = useState({ email: '', displayName: '', role: 'MARKETER' as AdminRole, password: '' });
  const fields = fieldErrorMap(error);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await create({ input: { ...values, email: values.email.trim(), displayName: values.displayName.trim() || null } });
    if (result.data) onCreated(result.data.createAdminUser);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="admin-user-form">
      <div className="form-grid">
        <Field label="Email" error={fields.email}>
          {(p) => <input {...p} type="email" required maxLength={254} value={values.email} onChange={(e) => setValues({ ...values, email: e.target.value })} />}
        </Field>
        <Field label="Name" error={fields.displayName}>
          {(p) => <input {...p} maxLength={100} value={values.displayName} onChange={(e) => setValues({ ...values, displayName: e.target.value })} />}
        </Field>
        <Field label="Role" error={fields.role}>
          {(p) => <RoleSelect {...p} value={values.role} onChange={(role) => setValues({ ...values, role })} />}
        </Field>
        <Field label="Initial password" hint="12 to 200 characters, not containing the email, not a common password; they can change it" error={fields.password}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required value={values.password} onChange={(e) => setValues({ ...values, password: e.target.value })} />}
        </Field>
      </div>
      <FormErrorLine error={error} placed={['email', 'displayName', 'role', 'password']} />
      <FormActions submitLabel="Create user" busy={fetching} onCancel={onCancel} testId="admin-user-create" />
    </form>
  );
}

function RoleForm({ user, onChanged, onCancel }: { user: AdminUserFieldsFragment; onChanged(user: AdminUserFieldsFragment): void; onCancel(): void }) {
  const [{ fetching, error }, update] = useMutation(UpdateAdminUserDocument);
  const [role, setRole] = useState<AdminRole>(user.role);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await update({ input: { id: user.id, role } });
    if (result.data) onChanged(result.data.updateAdminUser);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="admin-user-role-form">
      <p>{user.email} keeps their sessions; what they may do changes from their next request.</p>
      <Field label="Role">{(p) => <RoleSelect {...p} value={role} onChange={setRole} />}</Field>
      <FormErrorLine error={error} placed={[]} />
      <FormActions submitLabel="Change role" busy={fetching} onCancel={onCancel} testId="admin-user-role-save" />
    </form>
  );
}

function DisableForm({ user, onDisabled, onCancel }: { user: AdminUserFieldsFragment; onDisabled(user: AdminUserFieldsFragment): void; onCancel(): void }) {
  const [{ fetching, error }, update] = useMutation(UpdateAdminUserDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await update({ input: { id: user.id, isActive: false } });
    if (result.data) onDisabled(result.data.updateAdminUser);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="admin-user-disable-form">
      <p>
        {user.email} can no longer sign in, and every session they have open ends now. Their changes stay in the audit log. You can enable them again
        later.
      </p>
      <FormErrorLine error={error} placed={[]} />
      <FormActions submitLabel="Disable user" busy={fetching} onCancel={onCancel} testId="admin-user-disable-confirm" />
    </form>
  );
}

function SessionsForm({ user, onRevoked, onCancel }: { user: AdminUserFieldsFragment; onRevoked(count: number): void; onCancel(): void }) {
  const [{ fetching, error }, revoke] = useMutation(RevokeAdminSessionsDocument);
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await revoke({ adminUserId: user.id });
    if (result.data) onRevoked(result.data.revokeAdminSessions);
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="admin-user-sessions-form">
      <p>Every browser where {user.email} is signed in is signed out now (a lost laptop, a shared computer). They can sign in again with their password.</p>
      <FormErrorLine error={error} placed={[]} />
      <FormActions submitLabel="End sessions" busy={fetching} onCancel={onCancel} testId="admin-user-sessions-confirm" />
    </form>
  );
}
