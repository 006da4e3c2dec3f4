import { registerEnumType } from 'type-graphql';

/** Churn risk bands; thresholds are the worker's CHURN_BAND_MEDIUM and CHURN_BAND_HIGH. */
export enum ChurnBand {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
}
registerEnumType(ChurnBand, { name: 'ChurnBand' });
