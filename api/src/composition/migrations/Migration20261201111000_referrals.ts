import { Migration } from '@mikro-orm/migrations';

/** Referral codes on members, referrals, their programme settings and ledger reasons. */
export class Migration20261201111000_referrals extends Migration {
  override async up(): Promise<void> {
    // 8 characters without look-alikes (no 0/O, 1/I/L): 31^8 ≈ 8.5e11 codes. Retries until free; the unique index is
    // the real guard. Every insert path (enrolment, the bulk importer) gets a code from this default.
    this.addSql(`create function referral_code_new() returns varchar language plpgsql volatile as $$
      declare
        alphabet constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
        code text;
      begin
        loop
          code := '';
          for i in 1..8 loop
            code := code || substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1);
          end loop;
          exit when not exists (select 1 from member where referral_code = code);
        end loop;
        return code;
      end $$;`);
    this.addSql(`alter table "member" add column "referral_code" varchar(12) null;`);
    // Indexed during the backfill: referral_code_new() looks each code up, and without an index every call would scan
    // the whole table (quadratic: it never finished on a generated database of 1 M members).
    this.addSql(`create index "member_referral_code_backfill" on "member" ("referral_code");`);
    this.addSql(`update "member" set "referral_code" = referral_code_new();`);
    // One statement cannot see its own writes, so two members may have drawn the same code (likely at a million
    // members: the birthday bound). Redraw for all but the first holder until every code is unique.
    this.addSql(`do $$ begin
      loop
        update "member" m set "referral_code" = referral_code_new()
        from (select id, row_number() over (partition by "referral_code" order by id) as n from "member") d
        where m.id = d.id and d.n > 1;
        exit when not found;
      end loop;
    end $$;`);
    this.addSql(`drop index "member_referral_code_backfill";`);
    this.addSql(`alter table "member" alter column "referral_code" set not null, alter column "referral_code" set default referral_code_new();`);
    this.addSql(`alter table "member" add constraint "member_referral_code_unique" unique ("referral_code");`);

    this.addSql(`create table "referral" ("id" uuid not null, "referrer_id" uuid not null references "member" ("id"), "referred_id" uuid not null references "member" ("id"), "code" varchar(12) not null, "status" text check ("status" in ('PENDING', 'CREDITED', 'VOID')) not null, "void_reason" varchar(32) null, "order_id" uuid null, "referrer_points" int not null default 0, "referred_points" int not null default 0, "created_at" timestamptz not null, "credited_at" timestamptz null, "voided_at" timestamptz null, constraint "referral_pkey" primary key ("id"));`);
    // A member is referred once: the guard behind "credits both, once".
    this.addSql(`alter table "referral" add constraint "referral_referred_id_unique" unique ("referred_id");`);
    this.addSql(`create index "referral_referrer_id_index" on "referral" ("referrer_id");`);

    this.addSql(`alter table "programme_settings" add column "referral_referrer_points" int not null default 500, add column "referral_referred_points" int not null default 500, add column "referral_min_order_minor" int not null default 2000;`);

    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in ('ORDER_EARN', 'RELEASE', 'RETURN_CLAWBACK', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY', 'ADJUSTMENT', 'MERGE_OUT', 'MERGE_IN', 'REFERRAL', 'REFERRAL_REVERSAL'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in ('ORDER_EARN', 'RELEASE', 'RETURN_CLAWBACK', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY', 'ADJUSTMENT', 'MERGE_OUT', 'MERGE_IN'));`);
    this.addSql(`alter table "programme_settings" drop column "referral_referrer_points", drop column "referral_referred_points", drop column "referral_min_order_minor";`);
    this.addSql(`drop table if exists "referral" cascade;`);
    this.addSql(`alter table "member" drop column "referral_code";`);
    this.addSql(`drop function if exists referral_code_new();`);
  }
}
