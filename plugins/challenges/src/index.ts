import { ValueType, type LoyaltyPlugin, type SegmentAttributeDefinition, type TimelineSourceDefinition } from '@loyalty/api/extension-api';
import { Challenge, ChallengeBadge, ChallengeProgress } from './challenge.entity';
import { challengeProgressContributor } from './challenge-progress';
import { ChallengeResolver, MemberChallengeResolver, MemberChallengesResolver } from './challenge.resolver';
import { BadgeAwarded, CHALLENGE_CODE_TAKEN, CHALLENGE_NOT_EDITABLE, CHALLENGE_WINDOW_INVALID, ChallengeCompleted, permissions } from './declarations';
import { CODE } from './challenge-input';
import { eraseChallenges, exportChallenges, mergeChallenges } from './member-steps';
import { Migration20261207130000_challenges } from './migrations';
import { demoProgramme } from './demo';

const challengeQualifier = { description: 'The challenge, by its code.', pattern: CODE, patternHint: 'a challenge code such as three_visits' };

const segmentAttributes: SegmentAttributeDefinition[] = [
  {
    name: 'challengeProgressPercent',
    description:
      'How far a member is towards their goal in a challenge, 0 to 100, while not completed ("two thirds of the way, not finished": gte 66). Members who have not joined, have completed or are held out have no value; challengeState asks about those.',
    type: ValueType.NUMBER,
    operators: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'],
    min: 0,
    max: 100,
    qualifier: challengeQualifier,
    rows: (p) => `select cp.member_id, least(100, 100.0 * cp.progress / cp.goal)::float8 as v
      from challenge_progress cp join challenge c on c.id = cp.challenge_id
      where c.code = ${p.qualifier()} and cp.completed_at is null and not cp.is_holdout and cp.joined_at < ${p.asOf()}`,
  },
  {
    name: 'challengeState',
    description: 'Where a member stands in a challenge: NOT_JOINED (no qualifying event in its window yet), IN_PROGRESS, COMPLETED or HOLDOUT.',
    type: ValueType.ENUM,
    values: ['NOT_JOINED', 'IN_PROGRESS', 'COMPLETED', 'HOLDOUT'],
    operators: ['eq', 'neq', 'in'],
    qualifier: challengeQualifier,
    missingValue: 'NOT_JOINED',
    rows: (p) => `select cp.member_id, case when cp.is_holdout then 'HOLDOUT'
        when cp.completed_at is not null and cp.completed_at < ${p.asOf()} then 'COMPLETED' else 'IN_PROGRESS' end as v
      from challenge_progress cp join challenge c on c.id = cp.challenge_id
      where c.code = ${p.qualifier()} and cp.joined_at < ${p.asOf()}`,
  },
];

const timelineSources: TimelineSourceDefinition[] = [
  {
    kind: 'CHALLENGE_COMPLETED',
    description: 'The member completed a challenge (challenges plugin).',
    table: '(select id, member_id, completed_at from challenge_progress where completed_at is not null and not is_holdout)',
    occurredAt: 's.completed_at',
    node: ChallengeProgress,
    load: async (em, _memberId, ids) => {
      const rows = await em.find(ChallengeProgress, { id: { $in: ids } }, { populate: ['challenge'] });
      return rows.map((r): [string, object] => [r.id, r]);
    },
    summary: (node) => `Completed the challenge ${(node as ChallengeProgress).challenge.getEntity().name}`,
  },
  {
    kind: 'BADGE_AWARDED',
    description: 'The member earned a badge (challenges plugin).',
    table: 'challenge_badge',
    occurredAt: 's.awarded_at',
    node: ChallengeBadge,
    summary: (node) => `Earned the badge ${(node as ChallengeBadge).name}`,
  },
];

/** Challenges, streaks and badges: see README.md and docs/concepts/challenges.md. */
export const plugin: LoyaltyPlugin = {
  name: 'challenges',
  entities: [Challenge, ChallengeProgress, ChallengeBadge],
  migrations: [{ name: 'Migration20261207130000_challenges', class: Migration20261207130000_challenges }],
  earningContributors: [challengeProgressContributor()],
  resolvers: [ChallengeResolver, MemberChallengeResolver, MemberChallengesResolver],
  eventTypes: [ChallengeCompleted, BadgeAwarded],
  errorCodes: [CHALLENGE_WINDOW_INVALID, CHALLENGE_CODE_TAKEN, CHALLENGE_NOT_EDITABLE],
  permissions,
  segmentAttributes,
  timelineSources,
  demo: { programme: demoProgramme },
  memberSteps: { merge: mergeChallenges, erase: eraseChallenges, export: exportChallenges },
};

export default plugin;
export { Challenge, ChallengeBadge, ChallengeProgress } from './challenge.entity';
export { ChallengeCompleted, BadgeAwarded } from './declarations';
