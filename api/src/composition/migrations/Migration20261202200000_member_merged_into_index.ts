import { Migration } from '@mikro-orm/migrations';

/**
 * The records merged into a member, found by `merged_into_id`: the tier metric on every order and the timeline read
 * them. Without an index each was a sequential scan of `member` (and, through an OR, of the whole ledger). Partial:
 * almost every member has none.
 */
export class Migration20261202200000_member_merged_into_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index if not exists "member_merged_into_id_index" on "member" ("merged_into_id") where "merged_into_id" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "member_merged_into_id_index";`);
  }
}
