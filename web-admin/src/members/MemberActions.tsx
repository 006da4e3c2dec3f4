import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { EraseMemberDocument, ExportMemberDataDocument, MembersDocument, MergeMembersDocument, MergePreviewDocument, type MergePreviewQuery } from '../gql/graphql';
import { errorMessage } from '../shared/errors';
import { formatDate, formatInteger, humanize, shortId } from '../shared/format';
import { can } from '../shared/permissions';
import { useDebouncedValue } from '../shared/use-debounced-value';
import { Dialog, Field, FormActions } from '../shared/ui';
import { memberName } from './member-format';

type Preview = MergePreviewQuery['member'];

/** What the member page needs of the member it shows. */
interface ShownMember {
  id: string;
  status: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
}

/** The profile fields a merge copies to the survivor where it has none (api members/member.service.ts). */
const profileFields = ['firstName', 'lastName', 'email', 'phone', 'birthday', 'country'] as const;

/**
 * The member page's heavier actions, each behind the permission the API checks: export everything held about the
 * person as a JSON file (members:export), for a subject access request, erased members included; merge another record
 * of the same person into this one (members:merge), after a preview of what moves; erase (members:erase), after typing
 * ERASE.
 */
export function MemberActions({ member, onChanged }: { member: ShownMember; onChanged(): void }) {
  const admin = useCurrentAdmin();
  const [open, setOpen] = useState<'merge' | 'erase' | null>(null);
  const isActive = member.status === 'ACTIVE';
  const canMerge = isActive && can(admin, 'members:merge');
  const canErase = isActive && can(admin, 'members:erase');
  const canExport = member.status !== 'MERGED' && can(admin, 'members:export');
  if (!canMerge && !canErase && !canExport) return null;
  return (
    <div className="row-actions">
      {canExport && <ExportButton memberId={member.id} />}
      {canMerge && (
        <button type="button" className="secondary" onClick={() => setOpen('merge')} data-testid="member-merge">
          Merge a duplicate…
        </button>
      )}
      {canErase && (
        <button type="button" className="danger" onClick={() => setOpen('erase')} data-testid="member-erase">
          Erase…
        </button>
      )}
      <Dialog title={open === 'merge' ? 'Merge a duplicate into this member' : 'Erase this member'} isOpen={open !== null} onClose={() => setOpen(null)} testId="member-action-dialog">
        {open === 'merge' && <MergeForm survivor={member} onCancel={() => setOpen(null)} onMerged={() => (setOpen(null), onChanged())} />}
        {open === 'erase' && <EraseForm member={member} onCancel={() => setOpen(null)} onErased={() => (setOpen(null), onChanged())} />}
      </Dialog>
    </div>
  );
}

/** Asks the API for the member's data export and saves it as member-<id>.json; the API audits each export. */
function ExportButton({ memberId }: { memberId: string }) {
  const [{ fetching, error }, exportData] = useMutation(ExportMemberDataDocument);
  async function download() {
    const result = await exportData({ id: memberId });
    if (!result.data) return;
    const file = new Blob([JSON.stringify(result.data.exportMemberData, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(file);
    const link = document.createElement('a');
    link.href = url;
    link.download = `member-${memberId}.json`;
    link.click();
    URL.revokeObjectURL(url);
  }
  return (
    <>
      <button type="button" className="secondary" onClick={() => void download()} disabled={fetching} data-testid="member-export" title="Everything held about this person, for a subject access request">
        {fetching ? 'Exporting…' : 'Export data'}
      </button>
      {error && (
        <span className="error" role="alert" data-testid="member-export-error">
          {errorMessage(error)}
        </span>
      )}
    </>
  );
}

function EraseForm({ member, onErased, onCancel }: { member: ShownMember; onErased(): void; onCancel(): void }) {
  const [{ fetching, error }, erase] = useMutation(EraseMemberDocument);
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await erase({ input: { id: member.id, reason: reason.trim() } });
    if (result.data) onErased();
  }
  return (
    <form className="resource-form" onSubmit={submit} data-testid="member-erase-form">
      <p>
        The name, email, phone, birthday and identifiers of {memberName(member) || member.email || 'this member'} are removed for good, here and in
        earlier audit entries; consents are withdrawn. The points account is closed: points not yet spent are forfeited, and vouchers already issued stay
        usable until they expire. Orders, lifetime points and figures stay, without the person. This cannot be undone.
      </p>
      <Field label="Request reference" hint="The ticket or letter asking for erasure; kept in the audit log">
        {(p) => <input {...p} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <Field label="Type ERASE to confirm">{(p) => <input {...p} required autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />}</Field>
      {error && (
        <p className="error" role="alert" data-testid="form-error">
          {errorMessage(error)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="danger" disabled={fetching || typed.trim() !== 'ERASE' || !reason.trim()} data-testid="member-erase-confirm">
          Erase for good
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function MergeForm({ survivor, onMerged, onCancel }: { survivor: ShownMember; onMerged(): void; onCancel(): void }) {
  const navigate = useNavigate();
  const [search, setSearch] = useState('');
  const term = useDebouncedValue(search.trim(), 300);
  const [found] = useQuery({ query: MembersDocument, variables: { first: 6, search: term, withPii: true }, pause: term.length < 2 });
  const [absorbedId, setAbsorbedId] = useState('');
  const [preview] = useQuery({ query: MergePreviewDocument, variables: { id: absorbedId }, pause: !absorbedId, requestPolicy: 'network-only' });
  const [survivorNow] = useQuery({ query: MergePreviewDocument, variables: { id: survivor.id }, requestPolicy: 'network-only' });
  const [{ fetching, error }, merge] = useMutation(MergeMembersDocument);
  const [reason, setReason] = useState('');
  const candidates = found.data?.members.edges.map((e) => e.node).filter((m) => m.id !== survivor.id) ?? [];
  const absorbed = preview.data?.member;
  // member(id) follows a merge: an id that answers with another record was merged already.
  const isAlreadyMerged = absorbed && absorbed.id !== absorbedId;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await merge({ input: { survivorId: survivor.id, absorbedId, reason: reason.trim() || null } });
    if (result.data) {
      onMerged();
      navigate(`/members/${result.data.mergeMembers.survivor.id}`);
    }
  }

  return (
    <form className="resource-form" onSubmit={submit} data-testid="member-merge-form">
      <p>
        Everything of the other record moves to {memberName(survivor) || survivor.email || 'this member'}, which stays; the other record is closed and
        its id leads here.
      </p>
      <Field label="Find the other record" hint="Name, email or phone">
        {(p) => <input {...p} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />}
      </Field>
      {term.length >= 2 && found.data && candidates.length === 0 && <p className="empty">No other member matches.</p>}
      {candidates.length > 0 && (
        <ul className="merge-candidates">
          {candidates.map((m) => (
            <li key={m.id}>
              <label className="checkbox">
                <input type="radio" name="absorbed" value={m.id} checked={absorbedId === m.id} onChange={() => setAbsorbedId(m.id)} data-testid="merge-candidate" />
                <span>
                  {memberName(m) || m.email || shortId(m.id)} <span className="muted small">{[m.email, m.phone, humanize(m.status)].filter(Boolean).join(' · ')}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
      {preview.error && <p className="error">{errorMessage(preview.error)}</p>}
      {isAlreadyMerged && <p className="error">That record was already merged into another member.</p>}
      {absorbed && !isAlreadyMerged && survivorNow.data && <MergePreviewList absorbed={absorbed} survivor={survivorNow.data.member} />}
      {absorbed && !isAlreadyMerged && (
        <Field label="Reason" hint="Kept in the audit log">
          {(p) => <input {...p} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
        </Field>
      )}
      {error && (
        <p className="error" role="alert" data-testid="form-error">
          {errorMessage(error)}
        </p>
      )}
      {absorbed && !isAlreadyMerged ? (
        <FormActions submitLabel="Merge into this member" busy={fetching} onCancel={onCancel} testId="member-merge-confirm" />
      ) : (
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      )}
    </form>
  );
}

function MergePreviewList({ absorbed: a, survivor: s }: { absorbed: Preview; survivor: Preview }) {
  const feedbackCount = a.feedback.pageInfo.hasNextPage ? `${a.feedback.edges.length}+` : String(a.feedback.edges.length);
  const filled = profileFields.filter((f) => s[f] == null && a[f] != null);
  const newConsents = a.consents.filter((c) => !s.consents.some((o) => o.medium === c.medium));
  const items: [string, string][] = [
    ['Identifiers', a.identifiers.length ? a.identifiers.map((i) => `${humanize(i.type).toLowerCase()} ${i.value}`).join(', ') : 'none'],
    ['Points', `${formatInteger(a.points.available)} available, ${formatInteger(a.points.pending)} pending, ${formatInteger(a.points.lifetime)} lifetime`],
    ['Orders', formatInteger(a.orders.totalCount)],
    // The API lists at most 100 of a member's redemptions.
    ['Redemptions and vouchers', a.redemptions.length === 100 ? '100 or more' : formatInteger(a.redemptions.length)],
    ['Paid plans', formatInteger(a.plans.length)],
    ['Feedback answers', feedbackCount],
    ['Members they referred', formatInteger(a.referrals.length)],
    ['Profile gaps filled', filled.length ? filled.map((f) => `${humanize(f.replace(/[A-Z]/g, (c) => `_${c}`))}: ${a[f]}`).join(', ') : 'none'],
    ['Consents added', newConsents.length ? newConsents.map((c) => `${humanize(c.medium)} (${c.isGranted ? 'granted' : 'withdrawn'})`).join(', ') : 'none (the latest decision wins where both have one)'],
  ];
  return (
    <div className="merge-preview" data-testid="merge-preview">
      <h3>What moves from {memberName(a) || a.email || shortId(a.id)}</h3>
      <p className="muted small">
        Enrolled {formatDate(a.enrolledAt)}
        {a.tier ? `, tier ${a.tier.name}` : ''}. Tiers are worked out again from the combined history.
      </p>
      <dl className="facts">
        {items.map(([label, value]) => (
          <div key={label} data-testid="merge-preview-item">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
