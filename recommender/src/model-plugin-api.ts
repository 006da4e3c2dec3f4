/**
 * What a model plugin may use (`@loyalty/recommender/model-plugin-api`): the model interfaces the evaluation and the
 * worker call, the registry's one-line entries, and the plugin's shape. Everything else in the worker is internal.
 */
export type {
  ChurnDriver,
  ChurnModel,
  ExplainsChurn,
  ExplainsValue,
  FitHooks,
  RecsModel,
  RecsTrainSet,
  RescoresChurn,
  RescoresValue,
  StoredChurnScores,
  StoredValueScores,
  Txn,
  ValueContext,
  ValueDriver,
  ValueModel,
  ValuePrediction,
} from './eval/types';
export { churn, clv, recs, type RegistryEntry } from './eval/registry';
export type { ModelPlugin } from './model-plugins';
export { DAY_MS } from './time';
