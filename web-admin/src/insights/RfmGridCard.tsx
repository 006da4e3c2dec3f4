import { Link } from 'react-router';
import type { RfmSegment } from '../gql/graphql';
import { formatInteger, formatPercent } from '../shared/format';
import { Card } from '../shared/ui';
import { rfmSegmentLabels } from './rfm-segments';

/** A cell of the grid as `analytics.rfm.cells` gives it: its scores, the segment they decide, and its members. */
export interface RfmCellSummary {
  recencyScore: number;
  frequencyMonetaryScore: number;
  segment: RfmSegment;
  members: number;
  share: number;
}

interface Props {
  cells: readonly RfmCellSummary[];
  chosen: RfmSegment | null;
  linkTo(segment: RfmSegment): string;
}

const scores = [1, 2, 3, 4, 5];

/**
 * The R × FM grid: each cell's segment (the API's, so the grid cannot disagree with the counts) and its own members,
 * shaded by its share against the largest cell's.
 */
export function RfmGridCard({ cells, chosen, linkTo }: Props) {
  const cellAt = (r: number, fm: number) => cells.find((c) => c.recencyScore === r && c.frequencyMonetaryScore === fm);
  const largestShare = Math.max(0, ...cells.map((c) => c.share));
  return (
    <Card title="R × FM grid" testId="rfm-grid">
      <div className="table-wrap" tabIndex={0} role="region" aria-label="RFM segments by recency score and frequency-and-spend score">
        <table className="rfm-grid">
          <thead>
            <tr>
              <th scope="col">R \ FM</th>
              {scores.map((fm) => (
                <th key={fm} scope="col">
                  {fm}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...scores].reverse().map((r) => (
              <tr key={r}>
                <th scope="row">{r}</th>
                {scores.map((fm) => {
                  const cell = cellAt(r, fm);
                  if (!cell) return <td key={fm} className="rfm-cell" data-testid={`rfm-cell-${r}-${fm}`} />;
                  const shade = largestShare > 0 ? cell.share / largestShare : 0;
                  return (
                    <td
                      key={fm}
                      className={cell.segment === chosen ? 'rfm-cell is-chosen' : 'rfm-cell'}
                      style={{ background: cellColour(shade), color: shade > 0.55 ? '#fff' : undefined }}
                      data-testid={`rfm-cell-${r}-${fm}`}
                    >
                      <Link to={linkTo(cell.segment)} title={`${rfmSegmentLabels[cell.segment]}: R ${r}, FM ${fm}: ${formatInteger(cell.members)} members (${formatPercent(cell.share)})`}>
                        {rfmSegmentLabels[cell.segment]}
                      </Link>
                      <span className="rfm-cell-count" data-testid={`rfm-cell-members-${r}-${fm}`}>
                        {formatInteger(cell.members)}
                      </span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        R is the recency score (5: ordered most recently); FM is the mean of the frequency and spend scores, rounded up (5: orders most often and
        spends most). Each score is a quintile of the members scored. Each cell shows its members; the darker a cell, the more members it has.
      </p>
    </Card>
  );
}

/** From the app's pale blue (#eff4ff) to its accent (#2454d6), as the dashboard's cohort heat map. */
function cellColour(shade: number): string {
  const from = [0xef, 0xf4, 0xff];
  const to = [0x24, 0x54, 0xd6];
  const [r, g, b] = from.map((c, i) => Math.round(c + (to[i] - c) * shade));
  return `rgb(${r}, ${g}, ${b})`;
}
