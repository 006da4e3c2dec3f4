import { loadConfig } from '../base/config';
import { renderSchemaFiles } from '../graphql/emit';
import { composePlugins, type LoyaltyPlugin } from './plugin';
import { createServices } from './services';

/**
 * The committed schema files as the platform runs by default: the core with the distribution's plugins (LOYALTY_PLUGINS
 * unset), so that the admin app's operations and the storefront client are checked against what a fresh install serves.
 * No database is needed: the services are only asked for their registries.
 */
export function renderDistributionSchemaFiles(plugins: readonly LoyaltyPlugin[]): Promise<Record<string, string>> {
  const contributed = composePlugins(plugins);
  const services = createServices(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), { plugins });
  return renderSchemaFiles({ services, resolvers: contributed.resolvers, errorCodes: contributed.errorCodes });
}
