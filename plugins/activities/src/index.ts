import type { LoyaltyPlugin } from '@loyalty/api/extension-api';

/** Member activities (non-purchase earning): see README.md. */
export const plugin: LoyaltyPlugin = {
  name: 'activities',
};

export default plugin;
