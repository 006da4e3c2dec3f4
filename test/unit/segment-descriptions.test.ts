import 'reflect-metadata';
import { ATTRIBUTES } from '../../api/src/modules/segments/segment-grammar';

// The admin app's segment builder shows each attribute's description as its help text, to marketers.
describe("segment attributes' descriptions", () => {
  it('say things in words, naming no GraphQL type and field (such as ChurnRisk.previousScore)', () => {
    const paths = Object.entries(ATTRIBUTES).flatMap(([name, spec]) => (spec.description.match(/\b[A-Z][A-Za-z]*\.[a-z][A-Za-z]*\b/g) ?? []).map((p) => `${name}: ${p}`));
    expect(paths).toEqual([]);
    expect(ATTRIBUTES.churnScoreChange.description).toContain('previous score');
  });
});
