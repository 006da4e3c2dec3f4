/**
 * A reward kind a plugin adds. SKELETON: the reward-kinds work fleshes this out (see docs/extending.md).
 */
export interface RewardKindDefinition {
  /** UPPER_SNAKE, unique across core and plugins. */
  kind: string;
  label: string;
  description: string;
}
