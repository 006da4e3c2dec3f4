import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, type CombinedError } from 'urql';
import { ChangePasswordDocument } from '../gql/graphql';
import { fieldErrorMap } from '../shared/errors';
import { Card, Field, FormErrorLine, PageHeader } from '../shared/ui';
import { useCurrentAdmin } from './RequireAuth';
import { useSession } from './SessionProvider';

/** The signed-in admin's own account: who they are, and changing their password. */
export function AccountPage() {
  const admin = useCurrentAdmin();
  return (
    <section className="page" aria-label="Your account">
      <PageHeader title="Your account" summary={admin.email} />
      <div className="card-grid">
        <ChangePasswordCard />
      </div>
    </section>
  );
}

const EMPTY = { currentPassword: '', newPassword: '', confirmation: '' };

/**
 * The API ends every session of the admin when the password changes (a stolen session ends with it) and returns a
 * new one for this tab, which replaces the old token here. A new token brings a new API client (and a reload of the
 * signed-in admin, which remounts this page), so "changed" is kept in the address rather than in this component.
 */
function ChangePasswordCard() {
  const { signIn } = useSession();
  const [{ fetching }, change] = useMutation(ChangePasswordDocument);
  // The last answer's error until the form is edited: a message about a password no longer typed would mislead.
  const [error, setError] = useState<CombinedError>();
  const [values, setValues] = useState(EMPTY);
  const [params, setParams] = useSearchParams();
  const isDone = params.has('changed');
  const mismatch = values.confirmation !== '' && values.confirmation !== values.newPassword;
  const fields = fieldErrorMap(error);
  const set = (key: keyof typeof EMPTY, value: string) => {
    if (isDone) setParams({}, { replace: true });
    setError(undefined);
    setValues((old) => ({ ...old, [key]: value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (values.newPassword !== values.confirmation) return;
    const result = await change({ input: { currentPassword: values.currentPassword, newPassword: values.newPassword } });
    setError(result.error);
    if (!result.data) return;
    setValues(EMPTY);
    setParams({ changed: '1' }, { replace: true });
    signIn(result.data.changePassword);
  }

  return (
    <Card title="Change password" testId="change-password">
      <form className="resource-form" onSubmit={submit} aria-label="Change password" data-testid="change-password-form">
        <Field label="Current password" error={fields.currentPassword}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={values.currentPassword} onChange={(e) => set('currentPassword', e.target.value)} />}
        </Field>
        <Field label="New password" hint="12 to 200 characters, not containing your email, not a common password" error={fields.newPassword}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required maxLength={200} value={values.newPassword} onChange={(e) => set('newPassword', e.target.value)} />}
        </Field>
        <Field label="New password again" error={mismatch ? 'does not match the new password' : undefined}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required value={values.confirmation} onChange={(e) => set('confirmation', e.target.value)} />}
        </Field>
        <FormErrorLine error={error} placed={['currentPassword', 'newPassword']} />
        {isDone && (
          <p className="notice small" role="status" data-testid="change-password-done">
            Password changed. Every other session of yours has been signed out.
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={fetching || mismatch} aria-busy={fetching} data-testid="change-password-submit">
            Change password
          </button>
        </div>
      </form>
    </Card>
  );
}
