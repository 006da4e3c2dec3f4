/** What every kind's training output shares with the worker: its time window and the promotion gate's inputs. */

export interface Window {
  dataFrom: number;
  dataTo: number;
  /** Trained before, evaluated on [cutoff, cutoff + horizon). */
  cutoff: number;
  /** Where serving scores are computed: the day after the last purchase. */
  servingCutoff: number;
}

export interface GateInput {
  metric: string;
  model: number;
  baselines: Record<string, number>;
  active: number | null;
}

export interface GateDecision {
  isPromoted: boolean;
  reason: string;
}
