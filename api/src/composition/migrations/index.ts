import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125103721_initial } from './Migration20261125103721_initial';
import { Migration20261125111115_points_ledger } from './Migration20261125111115_points_ledger';
import { Migration20261201000000_analytics } from './Migration20261201000000_analytics';
import { Migration20261201000100_models } from './Migration20261201000100_models';
import { Migration20261201000200_days_of_week_int } from './Migration20261201000200_days_of_week_int';
import { Migration20261201002000_events } from './Migration20261201002000_events';
import { Migration20261201001000_segments } from './Migration20261201001000_segments';
import { Migration20261201110000_feedback } from './Migration20261201110000_feedback';
import { Migration20261201120000_admin_sessions } from './Migration20261201120000_admin_sessions';
import { Migration20261201100000_campaigns } from './Migration20261201100000_campaigns';
import { Migration20261201111000_referrals } from './Migration20261201111000_referrals';
import { Migration20261202200000_member_merged_into_index } from './Migration20261202200000_member_merged_into_index';
import { Migration20261201160000_model_scored_at } from './Migration20261201160000_model_scored_at';
import { Migration20261201130000_webhook_pending_deliveries } from './Migration20261201130000_webhook_pending_deliveries';
import { Migration20261202100000_scale_reads } from './Migration20261202100000_scale_reads';
import { Migration20261203100000_bigint_points } from './Migration20261203100000_bigint_points';
import { Migration20261206100000_rule_params } from './Migration20261206100000_rule_params';
import { Migration20261206200000_outbox_subscribers } from './Migration20261206200000_outbox_subscribers';
import { Migration20261207100100_programme_time_zone } from './Migration20261207100100_programme_time_zone';
import { Migration20261207100000_member_event_reasons } from './Migration20261207100000_member_event_reasons';
import { Migration20261206200100_reward_kinds_open } from './Migration20261206200100_reward_kinds_open';

/** Applied in this order; add each new migration here (npm run make-migration writes the file). */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261125103721_initial', class: Migration20261125103721_initial },
  { name: 'Migration20261125111115_points_ledger', class: Migration20261125111115_points_ledger },
  { name: 'Migration20261201000000_analytics', class: Migration20261201000000_analytics },
  { name: 'Migration20261201000100_models', class: Migration20261201000100_models },
  { name: 'Migration20261201000200_days_of_week_int', class: Migration20261201000200_days_of_week_int },
  { name: 'Migration20261201002000_events', class: Migration20261201002000_events },
  { name: 'Migration20261201001000_segments', class: Migration20261201001000_segments },
  { name: 'Migration20261201110000_feedback', class: Migration20261201110000_feedback },
  { name: 'Migration20261201120000_admin_sessions', class: Migration20261201120000_admin_sessions },
  { name: 'Migration20261201100000_campaigns', class: Migration20261201100000_campaigns },
  { name: 'Migration20261201111000_referrals', class: Migration20261201111000_referrals },
  { name: 'Migration20261201160000_model_scored_at', class: Migration20261201160000_model_scored_at },
  { name: 'Migration20261201130000_webhook_pending_deliveries', class: Migration20261201130000_webhook_pending_deliveries },
  { name: 'Migration20261202200000_member_merged_into_index', class: Migration20261202200000_member_merged_into_index },
  { name: 'Migration20261202100000_scale_reads', class: Migration20261202100000_scale_reads },
  { name: 'Migration20261203100000_bigint_points', class: Migration20261203100000_bigint_points },
  { name: 'Migration20261206100000_rule_params', class: Migration20261206100000_rule_params },
  { name: 'Migration20261206200000_outbox_subscribers', class: Migration20261206200000_outbox_subscribers },
  { name: 'Migration20261206200100_reward_kinds_open', class: Migration20261206200100_reward_kinds_open },
  { name: 'Migration20261207100000_member_event_reasons', class: Migration20261207100000_member_event_reasons },
  { name: 'Migration20261207100100_programme_time_zone', class: Migration20261207100100_programme_time_zone },
];
