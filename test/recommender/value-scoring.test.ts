import { MAX_PREDICTED_VALUE_MINOR, toValueMinor, valueBandOf, valueThresholds } from '../../recommender/src/training/store';
import { MAX_PREDICTED_VALUE_MINOR as API_BOUND } from '../../api/src/base/bounds';

const QUANTILES = { medium: 0.5, high: 0.8 };

describe('value scores as the worker stores them', () => {
  it('turns a predicted amount in currency units into bounded whole minor units', () => {
    expect(toValueMinor(12.345)).toBe(1235);
    expect(toValueMinor(0.004)).toBe(0);
    expect(toValueMinor(-3)).toBe(0);
    expect(toValueMinor(1e12)).toBe(MAX_PREDICTED_VALUE_MINOR);
    expect(MAX_PREDICTED_VALUE_MINOR).toBe(API_BOUND);
    expect(() => toValueMinor(Number.NaN)).toThrow(/non-finite/);
    expect(() => toValueMinor(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
  });

  it('sets thresholds at the nearest rank of each quantile: the top 20% HIGH, the next 30% MEDIUM', () => {
    const amounts = Array.from({ length: 10 }, (_, i) => (i + 1) * 100); // 100 … 1000, given unsorted below
    const t = valueThresholds([...amounts].reverse(), QUANTILES);
    expect(t).toEqual({ mediumFromMinor: 600, highFromMinor: 900 });
    expect(amounts.map((a) => valueBandOf(a, t))).toEqual(['LOW', 'LOW', 'LOW', 'LOW', 'LOW', 'MEDIUM', 'MEDIUM', 'MEDIUM', 'HIGH', 'HIGH']);
  });

  it('puts every member tied at a threshold in the band above it', () => {
    const t = valueThresholds([5, 5, 5, 5, 5, 5, 5, 5, 5, 9], QUANTILES);
    expect(t).toEqual({ mediumFromMinor: 5, highFromMinor: 5 });
    expect([5, 9].map((a) => valueBandOf(a, t))).toEqual(['HIGH', 'HIGH']);
  });

  it('keeps members predicted to spend nothing LOW, however many they are', () => {
    const t = valueThresholds([0, 0, 0, 0, 0, 0, 0, 0, 0, 250], QUANTILES);
    expect(t).toEqual({ mediumFromMinor: 1, highFromMinor: 1 });
    expect(valueBandOf(0, t)).toBe('LOW');
    expect(valueBandOf(250, t)).toBe('HIGH');
    expect(valueThresholds([], QUANTILES)).toEqual({ mediumFromMinor: 1, highFromMinor: 1 });
  });
});
