import { registerEnumType } from 'type-graphql';

/**
 * Predicted-value bands. The worker sets them when it writes a version's scores, from quantiles of that version's
 * predictions (VALUE_BAND_MEDIUM_QUANTILE, VALUE_BAND_HIGH_QUANTILE), and stores the thresholds with the version.
 */
export enum ValueBand {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
}
registerEnumType(ValueBand, { name: 'ValueBand', description: "A member's predicted value against the version's quantile thresholds (ModelVersion.valueScoring)." });
