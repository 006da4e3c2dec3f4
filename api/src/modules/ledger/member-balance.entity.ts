import { BigIntType, Entity, OneToOne, PrimaryKeyProp, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Member } from '../members/member.entity';

/**
 * Cached sums of the ledger, updated in the same transaction as each ledger row. Its row lock serialises
 * every points change of one member. `ledgerCheck` proves it equals the ledger.
 *
 * The sums are bigint, read as JS numbers: they grow with every order, without end. LedgerService keeps each within
 * ±MAX_MEMBER_POINTS (base/bounds.ts), where a double is exact.
 */
@Entity({ tableName: 'member_balance' })
export class MemberBalance {
  [PrimaryKeyProp]?: 'member';

  @OneToOne(() => Member, { primary: true, ref: true, deleteRule: 'restrict' })
  member: Ref<Member>;

  /** Spendable now; negative when returns clawed back points already spent. */
  @Property({ type: new BigIntType('number'), default: 0 })
  available: Opt<number> = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  pending: Opt<number> = 0;

  /** Earned from orders and goodwill, net of return clawbacks. */
  @Property({ type: new BigIntType('number'), default: 0 })
  lifetime: Opt<number> = 0;

  /**
   * When an erasure closed the account (LedgerService.closeAccounts). A closed account holds nothing: a later credit to
   * it is forfeited at once, and a return takes back lifetime points only.
   */
  @Property({ type: 'datetime', nullable: true })
  closedAt: Date | null = null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
