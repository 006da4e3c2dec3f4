import type { EarningLine } from './engine';

/**
 * One argument of an earning-rule kind, as the API validates it and the admin app's rule form shows it.
 * SKELETON: the plugin-registries work fleshes this out (see docs/extending.md).
 */
export interface RuleParamSpec {
  name: string;
  label: string;
  type: 'string' | 'integer' | 'percent' | 'date' | 'enum';
  required?: boolean;
  min?: number;
  max?: number;
  options?: string[];
  description?: string;
}

/** What a rule kind's `extraPoints` sees of the order it is applied to. */
export interface RuleKindInput<P> {
  params: P;
  lines: readonly EarningLine[];
  /** Base points of each line (same index as `lines`). */
  lineBase: readonly number[];
  placedAt: Date;
}

/** An earning-rule kind a plugin adds: validated arguments, and the extra points it gives an order. */
export interface EarningRuleKindDefinition<P = Record<string, unknown>> {
  /** UPPER_SNAKE, unique across core and plugins. */
  kind: string;
  label: string;
  description: string;
  params: RuleParamSpec[];
  extraPoints(input: RuleKindInput<P>): number;
}
