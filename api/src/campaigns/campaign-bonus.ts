import type { EntityManager } from '@mikro-orm/postgresql';
import type { LedgerService } from '../ledger/ledger.service';
import type { MemberBalance } from '../ledger/member-balance.entity';
import type { PointLot } from '../ledger/point-lot.entity';
import type { PointsBreakdownItem } from '../earning/earning.types';
import { MAX_POINTS_PER_ORDER } from '../shared/bounds';

/** What the bonus reads and sets on an order that was just credited. */
export interface BonusableOrder {
  id: string;
  placedAt: Date;
  pointsEarned: number;
  pointsBreakdown: PointsBreakdownItem[];
}

export interface BonusTerms {
  /** When the points are earned (now for the API). */
  at: Date;
  pendingDays: number;
  expiryMonths: number;
  actor: string;
}

export interface RunningBonus {
  id: string;
  name: string;
  bonus_fixed_points: number | null;
  bonus_multiplier_percent: number | null;
}

/** The breakdown kind of a campaign bonus; `ruleId` is the campaign id. */
export const CAMPAIGN_BONUS_KIND = 'CAMPAIGN_BONUS';

/**
 * Campaign bonus points on a recorded order (the earning step of BONUS_POINTS campaigns). Runs inside the order's
 * transaction, after the balance lock, so the bonus ledger row commits or rolls back with the order.
 *
 * Budget: each campaign row is locked (`for update`) before its spend is read, so concurrent orders take turns and a
 * grant is at most what is left; the `campaign_budget_kept` check constraint refuses any overspend regardless. Locks
 * are taken in campaign id order after the member's balance, the same order on every path, so they cannot deadlock.
 */
export class CampaignBonusService {
  constructor(private readonly ledger: LedgerService) {}

  /**
   * Adds the bonuses the order qualifies for; returns the new lots (one per campaign that gave points). `running`: the
   * BONUS_POINTS campaigns the member is TREATED in (never the holdout) whose window holds the order's time and has not
   * ended when it is recorded, in campaign id order; the order path reads them with its other inputs
   * (orders/credit-reads.ts).
   */
  async apply(em: EntityManager, order: BonusableOrder, bal: MemberBalance, terms: BonusTerms, running: readonly RunningBonus[]): Promise<PointLot[]> {
    const basePoints = order.pointsEarned;
    const lots: PointLot[] = [];
    for (const campaign of running) {
      const bonus = campaign.bonus_fixed_points ?? Math.trunc((basePoints * ((campaign.bonus_multiplier_percent ?? 100) - 100)) / 100);
      // The order with its bonuses earns at most MAX_POINTS_PER_ORDER, as the engine's ORDER_LIMIT does for the rules.
      const due = Math.min(bonus, MAX_POINTS_PER_ORDER - order.pointsEarned);
      if (due <= 0) continue;
      const points = await this.spend(em, campaign.id, due);
      if (points === 0) continue;
      await em.execute(
        `update campaign_member set bonus_points = bonus_points + ? where campaign_id = ? and member_id = ?`,
        [points, campaign.id, bal.member.id],
      );
      const lot = this.ledger.earn(
        em,
        bal,
        points,
        { sourceType: 'campaign', sourceId: campaign.id, key: `campaign:${campaign.id}:order:${order.id}`, actor: terms.actor, note: `order ${order.id}`, at: terms.at },
        { at: terms.at, pendingDays: terms.pendingDays, expiryMonths: terms.expiryMonths },
      );
      if (lot) lots.push(lot);
      order.pointsEarned += points;
      order.pointsBreakdown = [
        ...order.pointsBreakdown,
        { kind: CAMPAIGN_BONUS_KIND, label: points < due ? `${campaign.name} (budget reached)` : due < bonus ? `${campaign.name} (order limit reached)` : campaign.name, ruleId: campaign.id, ruleVersion: null, points },
      ];
    }
    return lots;
  }

  /** Takes up to `due` points from the campaign's budget under its row lock; 0 once spent or no longer running. */
  private async spend(em: EntityManager, campaignId: string, due: number): Promise<number> {
    const [row] = await em.execute<{ status: string; budget_points: number | null; spent_points: number }[]>(
      // spent_points is bigint, which pg hands over as a string: read as a double (exact below 2^53).
      `select status, budget_points, spent_points::float8 as spent_points from campaign where id = ? for update`,
      [campaignId],
    );
    // A cancel may have committed while this order waited for the lock.
    if (!row || (row.status !== 'SCHEDULED' && row.status !== 'ACTIVE')) return 0;
    const points = row.budget_points === null ? due : Math.min(due, row.budget_points - row.spent_points);
    if (points <= 0) return 0;
    await em.execute(`update campaign set spent_points = spent_points + ? where id = ?`, [points, campaignId]);
    return points;
  }
}
