import type { LoyaltyPlugin } from '@loyalty/api/extension-api';

/** Challenges, streaks and badges: see README.md. */
export const plugin: LoyaltyPlugin = {
  name: 'challenges',
};

export default plugin;
