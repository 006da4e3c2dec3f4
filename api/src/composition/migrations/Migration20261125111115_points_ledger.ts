import { Migration } from '@mikro-orm/migrations';

export class Migration20261125111115_points_ledger extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "earning_rule" ("id" uuid not null, "rule_key" uuid not null, "version" int not null, "name" varchar(100) not null, "kind" text check ("kind" in ('BASE_RATE', 'CATEGORY_MULTIPLIER', 'PRODUCT_MULTIPLIER', 'CHANNEL_MULTIPLIER', 'BONUS', 'ORDER_CAP', 'DAILY_CAP')) not null, "priority" int not null default 0, "currency" varchar(3) null, "points" int null, "per_minor" int null, "multiplier_percent" int null, "fixed_points" int null, "category" varchar(100) null, "sku" varchar(64) null, "channel_kind" text check ("channel_kind" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) null, "starts_at" timestamptz null, "ends_at" timestamptz null, "days_of_week" text[] null, "cap_points" int null, "is_active" boolean not null, "superseded_at" timestamptz null, "created_by" varchar(80) not null, "created_at" timestamptz not null, constraint "earning_rule_pkey" primary key ("id"));`);
    this.addSql(`create index "earning_rule_rule_key_index" on "earning_rule" ("rule_key");`);
    this.addSql(`alter table "earning_rule" add constraint "earning_rule_rule_key_version_unique" unique ("rule_key", "version");`);

    this.addSql(`create table "ledger_entry" ("id" uuid not null, "member_id" uuid not null, "reason" text check ("reason" in ('ORDER_EARN', 'RELEASE', 'RETURN_CLAWBACK', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY', 'ADJUSTMENT', 'MERGE_OUT', 'MERGE_IN')) not null, "pending_delta" int not null, "available_delta" int not null, "lifetime_delta" int not null default 0, "source_type" varchar(32) not null, "source_id" uuid not null, "idempotency_key" varchar(120) not null, "note" varchar(500) null, "actor" varchar(80) not null, "created_at" timestamptz not null, constraint "ledger_entry_pkey" primary key ("id"));`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "ledger_entry_source_type_source_id_index" on "ledger_entry" ("source_type", "source_id");`);
    this.addSql(`create index "ledger_entry_member_id_created_at_index" on "ledger_entry" ("member_id", "created_at");`);

    this.addSql(`create table "member_balance" ("member_id" uuid not null, "available" int not null default 0, "pending" int not null default 0, "lifetime" int not null default 0, "updated_at" timestamptz not null, constraint "member_balance_pkey" primary key ("member_id"));`);

    this.addSql(`create table "membership_plan" ("id" uuid not null, "code" varchar(32) not null, "name" varchar(100) not null, "fee_minor" int not null, "currency" varchar(3) not null, "duration_days" int not null, "earn_multiplier_percent" int not null default 100, "benefit_flags" text[] not null, "is_active" boolean not null default true, constraint "membership_plan_pkey" primary key ("id"));`);
    this.addSql(`alter table "membership_plan" add constraint "membership_plan_code_unique" unique ("code");`);

    this.addSql(`create table "member_plan" ("id" uuid not null, "member_id" uuid not null, "plan_id" uuid not null, "starts_at" timestamptz not null, "ends_at" timestamptz not null, "cancelled_at" timestamptz null, constraint "member_plan_pkey" primary key ("id"));`);
    this.addSql(`create index "member_plan_member_id_index" on "member_plan" ("member_id");`);

    this.addSql(`create table "point_lot" ("id" uuid not null, "member_id" uuid not null, "ledger_entry_id" uuid not null, "source_type" varchar(32) not null, "source_id" uuid not null, "points" int not null, "remaining" int not null, "state" text check ("state" in ('PENDING', 'AVAILABLE', 'CLOSED')) not null, "earned_at" timestamptz not null, "available_at" timestamptz not null, "expires_at" timestamptz not null, constraint "point_lot_pkey" primary key ("id"));`);
    this.addSql(`create index "point_lot_state_available_at_index" on "point_lot" ("state", "available_at");`);
    this.addSql(`create index "point_lot_member_id_state_expires_at_index" on "point_lot" ("member_id", "state", "expires_at");`);

    this.addSql(`create table "product" ("id" uuid not null, "sku" varchar(64) not null, "name" varchar(200) not null, "category" varchar(100) null, "brand" varchar(100) null, "price_minor" int null, "currency" varchar(3) null, "created_at" timestamptz not null, constraint "product_pkey" primary key ("id"));`);
    this.addSql(`alter table "product" add constraint "product_sku_unique" unique ("sku");`);
    this.addSql(`create index "product_category_index" on "product" ("category");`);

    this.addSql(`create table "programme_settings" ("id" int not null default 1, "pending_days" int not null, "lot_expiry_months" int not null, "tier_metric" text check ("tier_metric" in ('POINTS_EARNED', 'SPEND_MINOR')) not null, "tier_window_days" int not null, "voucher_valid_days" int not null, "point_value_minor" int not null, "point_value_currency" varchar(3) not null, "updated_at" timestamptz not null, constraint "programme_settings_pkey" primary key ("id"));`);

    this.addSql(`create table "reward" ("id" uuid not null, "code" varchar(32) not null, "name" varchar(100) not null, "kind" text check ("kind" in ('FREE_PRODUCT', 'FIXED_DISCOUNT', 'PERCENT_DISCOUNT', 'PARTNER', 'DONATION')) not null, "cost_points" int not null, "sku" varchar(64) null, "value_minor" int null, "currency" varchar(3) null, "percent_off" int null, "partner" varchar(100) null, "stock" int null, "redeemed_count" int not null default 0, "per_member_limit" int null, "valid_from" timestamptz null, "valid_to" timestamptz null, "tier_codes" text[] not null, "is_active" boolean not null default true, "created_at" timestamptz not null, constraint "reward_pkey" primary key ("id"));`);
    this.addSql(`alter table "reward" add constraint "reward_code_unique" unique ("code");`);

    this.addSql(`create table "redemption" ("id" uuid not null, "member_id" uuid not null, "reward_id" uuid not null, "points" int not null, "status" text check ("status" in ('ISSUED', 'CONSUMED', 'CANCELLED', 'EXPIRED')) not null, "voucher_code" varchar(32) null, "idempotency_key" varchar(120) not null, "lot_allocations" jsonb not null, "created_at" timestamptz not null, "expires_at" timestamptz null, "consumed_at" timestamptz null, "consumed_order_ref" varchar(100) null, "cancelled_at" timestamptz null, constraint "redemption_pkey" primary key ("id"));`);
    this.addSql(`create index "redemption_member_id_index" on "redemption" ("member_id");`);
    this.addSql(`create index "redemption_reward_id_index" on "redemption" ("reward_id");`);
    this.addSql(`alter table "redemption" add constraint "redemption_voucher_code_unique" unique ("voucher_code");`);
    this.addSql(`alter table "redemption" add constraint "redemption_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "redemption_expires_at_index" on "redemption" ("expires_at");`);

    this.addSql(`create table "customer_order" ("id" uuid not null, "idempotency_key" varchar(180) not null, "body_hash" varchar(64) not null, "channel_id" uuid not null, "channel_kind" text check ("channel_kind" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) not null, "external_order_id" varchar(100) not null, "member_id" uuid null, "status" text check ("status" in ('COMPLETED', 'PARTIALLY_RETURNED', 'RETURNED')) not null default 'COMPLETED', "currency" varchar(3) not null, "subtotal_minor" int not null, "order_discount_minor" int not null, "total_minor" int not null, "returned_minor" int not null default 0, "store_code" varchar(64) null, "placed_at" timestamptz not null, "points_earned" int not null default 0, "points_clawed_back" int not null default 0, "points_basis_minor" int not null default 0, "returned_at_credit_minor" int not null default 0, "points_breakdown" jsonb not null, "claimed_at" timestamptz null, "created_at" timestamptz not null, constraint "customer_order_pkey" primary key ("id"));`);
    this.addSql(`alter table "customer_order" add constraint "customer_order_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "customer_order_member_id_placed_at_index" on "customer_order" ("member_id", "placed_at");`);

    this.addSql(`create table "order_return" ("id" uuid not null, "order_id" uuid not null, "external_return_id" varchar(100) not null, "body_hash" varchar(64) not null, "lines" jsonb not null, "value_minor" int not null, "points_clawed_back" int not null, "created_at" timestamptz not null, constraint "order_return_pkey" primary key ("id"));`);
    this.addSql(`alter table "order_return" add constraint "order_return_order_id_external_return_id_unique" unique ("order_id", "external_return_id");`);

    this.addSql(`create table "order_line" ("id" uuid not null, "order_id" uuid not null, "line_no" int not null, "product_id" uuid not null, "sku" varchar(64) not null, "quantity" int not null, "unit_price_minor" int not null, "discount_minor" int not null, "total_minor" int not null, "net_minor" int not null, "returned_quantity" int not null default 0, constraint "order_line_pkey" primary key ("id"));`);
    this.addSql(`create index "order_line_product_id_index" on "order_line" ("product_id");`);
    this.addSql(`alter table "order_line" add constraint "order_line_order_id_line_no_unique" unique ("order_id", "line_no");`);

    this.addSql(`create table "tier" ("id" uuid not null, "code" varchar(32) not null, "name" varchar(100) not null, "threshold" int not null, "earn_multiplier_percent" int not null default 100, "benefit_flags" text[] not null, constraint "tier_pkey" primary key ("id"));`);
    this.addSql(`alter table "tier" add constraint "tier_code_unique" unique ("code");`);
    this.addSql(`alter table "tier" add constraint "tier_threshold_unique" unique ("threshold");`);

    this.addSql(`create table "member_tier" ("member_id" uuid not null, "tier_id" uuid not null, "achieved_at" timestamptz not null, "retain_until" timestamptz not null, constraint "member_tier_pkey" primary key ("member_id"));`);

    this.addSql(`create table "tier_change" ("id" uuid not null, "member_id" uuid not null, "from_tier" varchar(32) null, "to_tier" varchar(32) not null, "reason" text check ("reason" in ('QUALIFIED', 'PERIOD_ENDED', 'MERGE')) not null, "changed_at" timestamptz not null, constraint "tier_change_pkey" primary key ("id"));`);
    this.addSql(`create index "tier_change_member_id_index" on "tier_change" ("member_id");`);

    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade;`);

    this.addSql(`alter table "member_balance" add constraint "member_balance_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "member_plan" add constraint "member_plan_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade;`);
    this.addSql(`alter table "member_plan" add constraint "member_plan_plan_id_foreign" foreign key ("plan_id") references "membership_plan" ("id") on update cascade;`);

    this.addSql(`alter table "point_lot" add constraint "point_lot_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade;`);

    this.addSql(`alter table "redemption" add constraint "redemption_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade;`);
    this.addSql(`alter table "redemption" add constraint "redemption_reward_id_foreign" foreign key ("reward_id") references "reward" ("id") on update cascade;`);

    this.addSql(`alter table "customer_order" add constraint "customer_order_channel_id_foreign" foreign key ("channel_id") references "sales_channel" ("id") on update cascade;`);
    this.addSql(`alter table "customer_order" add constraint "customer_order_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "order_return" add constraint "order_return_order_id_foreign" foreign key ("order_id") references "customer_order" ("id") on update cascade;`);

    this.addSql(`alter table "order_line" add constraint "order_line_order_id_foreign" foreign key ("order_id") references "customer_order" ("id") on update cascade;`);
    this.addSql(`alter table "order_line" add constraint "order_line_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade;`);

    this.addSql(`alter table "member_tier" add constraint "member_tier_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "member_tier" add constraint "member_tier_tier_id_foreign" foreign key ("tier_id") references "tier" ("id") on update cascade;`);

    this.addSql(`alter table "tier_change" add constraint "tier_change_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade;`);

    this.addSql(`drop index "member_merged_into_id_index";`);

    // The ledger is append-only: the database itself refuses to change or remove a row.
    this.addSql(`create function ledger_entry_is_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'ledger_entry rows are append-only: add a correcting row instead' using errcode = 'raise_exception';
      end $$;`);
    this.addSql(`create trigger ledger_entry_append_only before update or delete on "ledger_entry"
      for each row execute function ledger_entry_is_append_only();`);
    this.addSql(`alter table "point_lot" add constraint "point_lot_remaining_in_range" check ("remaining" >= 0 and "remaining" <= "points");`);
    this.addSql(`alter table "member_balance" add constraint "member_balance_pending_not_negative" check ("pending" >= 0);`);
    this.addSql(`alter table "reward" add constraint "reward_stock_not_oversold" check ("stock" is null or "redeemed_count" <= "stock");`);
    this.addSql(`alter table "reward" add constraint "reward_cost_positive" check ("cost_points" > 0);`);
    this.addSql(`create index "point_lot_source_index" on "point_lot" ("source_type", "source_id");`);
    this.addSql(`create index "redemption_status_expires_at_index" on "redemption" ("status", "expires_at");`);
    this.addSql(`create index "member_tier_retain_until_index" on "member_tier" ("retain_until");`);
    this.addSql(`insert into "programme_settings" ("id", "pending_days", "lot_expiry_months", "tier_metric", "tier_window_days", "voucher_valid_days", "point_value_minor", "point_value_currency", "updated_at")
      values (1, 14, 12, 'POINTS_EARNED', 365, 30, 1, 'GBP', now());`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists ledger_entry_append_only on "ledger_entry";`);
    this.addSql(`drop function if exists ledger_entry_is_append_only();`);
    this.addSql(`alter table "member_plan" drop constraint "member_plan_plan_id_foreign";`);

    this.addSql(`alter table "order_line" drop constraint "order_line_product_id_foreign";`);

    this.addSql(`alter table "redemption" drop constraint "redemption_reward_id_foreign";`);

    this.addSql(`alter table "order_return" drop constraint "order_return_order_id_foreign";`);

    this.addSql(`alter table "order_line" drop constraint "order_line_order_id_foreign";`);

    this.addSql(`alter table "member_tier" drop constraint "member_tier_tier_id_foreign";`);

    this.addSql(`drop table if exists "earning_rule" cascade;`);

    this.addSql(`drop table if exists "ledger_entry" cascade;`);

    this.addSql(`drop table if exists "member_balance" cascade;`);

    this.addSql(`drop table if exists "membership_plan" cascade;`);

    this.addSql(`drop table if exists "member_plan" cascade;`);

    this.addSql(`drop table if exists "point_lot" cascade;`);

    this.addSql(`drop table if exists "product" cascade;`);

    this.addSql(`drop table if exists "programme_settings" cascade;`);

    this.addSql(`drop table if exists "reward" cascade;`);

    this.addSql(`drop table if exists "redemption" cascade;`);

    this.addSql(`drop table if exists "customer_order" cascade;`);

    this.addSql(`drop table if exists "order_return" cascade;`);

    this.addSql(`drop table if exists "order_line" cascade;`);

    this.addSql(`drop table if exists "tier" cascade;`);

    this.addSql(`drop table if exists "member_tier" cascade;`);

    this.addSql(`drop table if exists "tier_change" cascade;`);

    this.addSql(`CREATE INDEX member_merged_into_id_index ON public.member USING btree (merged_into_id) WHERE (merged_into_id IS NOT NULL);`);
  }

}
