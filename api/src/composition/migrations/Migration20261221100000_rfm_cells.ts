import { Migration } from '@mikro-orm/migrations';
import { RFM_SEGMENTS_EDGES_BY_INDEX } from './Migration20261213100100_rfm_recency_edges_by_index';

const HEADER = `create or replace function analytics_rfm_segments(as_of timestamptz)
  returns table (segment text, members bigint, orders bigint, monetary_minor numeric)`;
const SEGMENT_TOTALS = `select analytics_rfm_segment(c.r, c.f, c.m), sum(c.members)::bigint, sum(c.orders)::bigint, sum(c.monetary_minor) from cells c group by 1`;
if (!RFM_SEGMENTS_EDGES_BY_INDEX.startsWith(HEADER) || !RFM_SEGMENTS_EDGES_BY_INDEX.includes(SEGMENT_TOTALS)) {
  throw new Error('analytics_rfm_segments: its header or last select was not found');
}

/**
 * `analytics_rfm_cells`: what `analytics_rfm_segments` counted per segment, per cell of the R × FM grid (recency score,
 * and the mean of the frequency and monetary scores rounded up), each with its segment, which the cell decides. The same
 * one pass; the API adds cells up into segments, and the admin app's grid shows each cell's own count.
 */
export const RFM_CELLS = RFM_SEGMENTS_EDGES_BY_INDEX.replace(
  HEADER,
  `create function analytics_rfm_cells(as_of timestamptz)
  returns table (recency_score int, fm_score int, segment text, members bigint, orders bigint, monetary_minor numeric)`,
).replace(
  SEGMENT_TOTALS,
  `select c.r, (c.f + c.m + 1) / 2, analytics_rfm_segment(c.r, c.f, c.m), sum(c.members)::bigint, sum(c.orders)::bigint, sum(c.monetary_minor)
    from cells c group by 1, 2, 3`,
);

export class Migration20261221100000_rfm_cells extends Migration {
  override async up(): Promise<void> {
    this.addSql(RFM_CELLS);
    this.addSql(`drop function analytics_rfm_segments(timestamptz);`);
  }

  override async down(): Promise<void> {
    this.addSql(RFM_SEGMENTS_EDGES_BY_INDEX);
    this.addSql(`drop function analytics_rfm_cells(timestamptz);`);
  }
}
