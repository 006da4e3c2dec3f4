import { Link } from 'react-router';
import type { RfmSegment } from '../gql/graphql';
import { formatInteger, formatPercent } from '../shared/format';
import { Card } from '../shared/ui';
import { rfmGrid, rfmSegmentLabels } from './rfm-segments';
import type { SegmentSummary } from './RfmSegmentTable';

interface Props {
  segments: readonly SegmentSummary[];
  chosen: RfmSegment | null;
  linkTo(segment: RfmSegment): string;
}

const fmScores = [1, 2, 3, 4, 5];

/**
 * The R × FM grid with each cell's segment, shaded by that segment's share of members. The API counts members per
 * segment, not per cell, so a segment's cells share one shade and one count.
 */
export function RfmGridCard({ segments, chosen, linkTo }: Props) {
  const bySegment = new Map(segments.map((s) => [s.segment, s]));
  const largestShare = Math.max(0, ...segments.map((s) => s.share));
  return (
    <Card title="R × FM grid" testId="rfm-grid">
      <div className="table-wrap" tabIndex={0} role="region" aria-label="RFM segments by recency score and frequency-and-spend score">
        <table className="rfm-grid">
          <thead>
            <tr>
              <th scope="col">R \ FM</th>
              {fmScores.map((fm) => (
                <th key={fm} scope="col">
                  {fm}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rfmGrid.map(({ r, cells }) => (
              <tr key={r}>
                <th scope="row">{r}</th>
                {cells.map((segment, i) => {
                  const summary = bySegment.get(segment);
                  const shade = largestShare > 0 ? (summary?.share ?? 0) / largestShare : 0;
                  return (
                    <td
                      key={i}
                      className={segment === chosen ? 'rfm-cell is-chosen' : 'rfm-cell'}
                      style={{ background: cellColour(shade), color: shade > 0.55 ? '#fff' : undefined }}
                      data-testid={`rfm-cell-${r}-${fmScores[i]}`}
                    >
                      <Link
                        to={linkTo(segment)}
                        title={`${rfmSegmentLabels[segment]}: ${formatInteger(summary?.members ?? 0)} members (${formatPercent(summary?.share ?? 0)}) in all its cells`}
                      >
                        {rfmSegmentLabels[segment]}
                      </Link>
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
        spends most). Each score is a quintile of the members scored. The darker a cell, the larger its segment.
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
