import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { MemberActivitiesCard } from '../activities';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { MemberChallengesCard } from '../challenges/MemberChallengesCard';
import { MemberDetailDocument } from '../gql/graphql';
import { MemberVouchersCard } from '../service';
import { can } from '../shared/permissions';
import { Badge, PageHeader, QueryState } from '../shared/ui';
import { FeedbackCard } from './detail/FeedbackCard';
import { LedgerCard } from './detail/LedgerCard';
import { OrdersCard } from './detail/OrdersCard';
import { PlansCard } from './detail/PlansCard';
import { PointsCard } from './detail/PointsCard';
import { PredictedValueCard } from './detail/PredictedValueCard';
import { ProfileCard } from './detail/ProfileCard';
import { RecommendationsCard } from './detail/RecommendationsCard';
import { RiskCard } from './detail/RiskCard';
import { TierCard } from './detail/TierCard';
import { TimelineCard } from './detail/TimelineCard';
import type { Member } from './detail/types';
import { MemberActions } from './MemberActions';
import { memberName, statusLabels } from './member-format';

/** Member 360: one card per section (`detail/`), plus the cards other folders contribute (activities, challenges, vouchers). */
export function MemberDetail() {
  const { id = '' } = useParams();
  const admin = useCurrentAdmin();
  const withPii = can(admin, 'members:pii');
  const [detail, refetchDetail] = useQuery({ query: MemberDetailDocument, variables: { id, withPii } });
  const member = detail.data?.member;
  const title = member ? (withPii && (memberName(member) || member.email || member.phone)) || `Member ${member.id.slice(0, 8)}` : 'Member';

  return (
    <section className="page" aria-label="Member">
      <p className="breadcrumb">
        <Link to="/members">← Members</Link>
      </p>
      <PageHeader
        title={title}
        summary={member && <Badge tone={member.status === 'ACTIVE' ? 'good' : 'neutral'}>{statusLabels[member.status]}</Badge>}
        actions={member && <MemberActions member={member} onChanged={() => refetchDetail({ requestPolicy: 'network-only' })} />}
      />
      <QueryState
        fetching={detail.fetching}
        error={detail.error}
        hasData={Boolean(member)}
        refetch={refetchDetail}
        loadingText="Loading member…"
        testId="member"
      >
        {member && (
          <MemberSections
            member={member}
            withPii={withPii}
            // An erased or merged-away member's points can no longer change (the API answers MEMBER_ERASED or follows the survivor).
            canAdjust={member.status === 'ACTIVE' && can(admin, 'points:adjust')}
            // Editing shows the contact details, so it needs them visible (analysts never see them).
            canEdit={member.status === 'ACTIVE' && withPii && can(admin, 'members:write')}
            canWrite={member.status === 'ACTIVE' && can(admin, 'members:write')}
            onChanged={() => refetchDetail({ requestPolicy: 'network-only' })}
          />
        )}
      </QueryState>
    </section>
  );
}


function MemberSections({
  member,
  withPii,
  canAdjust,
  canEdit,
  canWrite,
  onChanged,
}: {
  member: Member;
  withPii: boolean;
  canAdjust: boolean;
  canEdit: boolean;
  /** Changes that show no contact details (cancelling a plan). */
  canWrite: boolean;
  onChanged(): void;
}) {
  // Bumped when points move from this page, so the ledger reads again and marks its new rows.
  const [ledgerReloads, setLedgerReloads] = useState(0);
  const reloadLedger = () => setLedgerReloads((n) => n + 1);
  // An erased member's history stays; predictions about them, and products to offer them, do not apply.
  const isErased = member.status === 'ERASED';

  return (
    <div className="card-grid">
      <ProfileCard member={member} withPii={withPii} canEdit={canEdit} onChanged={onChanged} />
      <PointsCard member={member} canAdjust={canAdjust} onAdjusted={reloadLedger} />
      <TierCard member={member} />
      <RiskCard member={member} />
      {!isErased && <PredictedValueCard value={member.predictedValue} />}
      <LedgerCard memberId={member.id} reloads={ledgerReloads} />
      <TimelineCard memberId={member.id} />
      <OrdersCard memberId={member.id} />
      <MemberActivitiesCard memberId={member.id} />
      <MemberChallengesCard memberId={member.id} isErased={isErased} />
      <MemberVouchersCard
        memberId={member.id}
        onCancelled={() => {
          // The points came back: the balance and a new ledger row.
          reloadLedger();
          onChanged();
        }}
      />
      <PlansCard memberId={member.id} canCancel={canWrite} onChanged={onChanged} />
      {!isErased && <RecommendationsCard memberId={member.id} />}
      <FeedbackCard memberId={member.id} withPii={withPii} />
    </div>
  );
}
