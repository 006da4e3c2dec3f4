import { useState } from 'react';
import { dash, formatDate, humanize } from '../../shared/format';
import { Badge, Card, Dialog } from '../../shared/ui';
import { channelLabels } from '../member-format';
import { EditProfileForm } from './EditProfileForm';
import type { Member } from './types';

export function ProfileCard({ member: m, withPii, canEdit, onChanged }: { member: Member; withPii: boolean; canEdit: boolean; onChanged(): void }) {
  const [isEditing, setEditing] = useState(false);
  return (
    <Card title="Profile and consents" testId="member-profile">
      {canEdit && (
        <>
          <button type="button" className="secondary" onClick={() => setEditing(true)} data-testid="member-profile-edit">
            Edit profile
          </button>
          <Dialog title="Edit profile" isOpen={isEditing} onClose={() => setEditing(false)} testId="member-profile-dialog">
            <EditProfileForm
              member={m}
              onCancel={() => setEditing(false)}
              onSaved={() => {
                setEditing(false);
                onChanged();
              }}
            />
          </Dialog>
        </>
      )}
      <dl className="facts">
        {withPii && (
          <>
            <dt>Email</dt>
            <dd data-testid="member-email">{m.email || dash}</dd>
            <dt>Phone</dt>
            <dd>{m.phone || dash}</dd>
            <dt>Birthday</dt>
            <dd>{m.birthday || dash}</dd>
          </>
        )}
        <dt>Member id</dt>
        <dd className="mono">{m.id}</dd>
        <dt>Country</dt>
        <dd>{m.country || dash}</dd>
        <dt>Enrolled</dt>
        <dd>
          {formatDate(m.enrolledAt)} via {channelLabels[m.enrolmentChannel]}
        </dd>
        <dt>Preferred channel</dt>
        <dd>{m.preferredChannel ? channelLabels[m.preferredChannel] : dash}</dd>
      </dl>
      {!withPii && <p className="notice small">Names and contact details are hidden for the Analyst role.</p>}
      <h3>Consents</h3>
      {m.consents.length === 0 ? (
        <p className="muted">No consent recorded</p>
      ) : (
        <ul className="plain" data-testid="member-consents">
          {m.consents.map((c) => (
            <li key={c.medium}>
              <Badge tone={c.isGranted ? 'good' : 'neutral'}>{c.isGranted ? 'Granted' : 'Withdrawn'}</Badge> {humanize(c.medium)}{' '}
              <span className="muted small">
                {formatDate(c.isGranted ? c.grantedAt : c.withdrawnAt)} · {c.source}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
