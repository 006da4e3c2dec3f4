import { parseArgs } from 'node:util';
import { SalesChannelKind } from '../../base/enums';
import { SalesChannel } from '../../modules/channels/sales-channel.entity';
import { runCli } from './run';

const USAGE =
  'usage: npm run create-api-key -- --channel <name> [--kind WEB|APP|STORE|MARKETPLACE|CALL_CENTER] [--scopes members:read,members:write,orders:write]';

/** Creates the channel if needed and prints a new key, which is shown only this once. */
runCli('create-api-key', async ({ orm, services }) => {
  const { values } = parseArgs({
    options: {
      channel: { type: 'string' },
      kind: { type: 'string', default: 'WEB' },
      scopes: { type: 'string', default: 'members:read,members:write,orders:write' },
      name: { type: 'string', default: 'created from the command line' },
    },
  });
  if (!values.channel) throw new Error(USAGE);
  const kind = values.kind as SalesChannelKind;
  if (!Object.values(SalesChannelKind).includes(kind) || kind === SalesChannelKind.ADMIN) throw new Error(`bad --kind\n${USAGE}`);
  const scopes = values.scopes.split(',').map((s) => s.trim());
  const known = services.apiKeys.access.listScopes().map((s) => s.scope);
  const bad = scopes.filter((s) => !known.includes(s));
  if (bad.length) throw new Error(`unknown scope(s) ${bad.join(', ')}; known: ${known.join(', ')}`);

  const em = orm.em.fork();
  const channel =
    (await em.findOne(SalesChannel, { name: values.channel })) ??
    (await services.apiKeys.createChannel(em, null, { name: values.channel, kind }));
  const { key, apiKey } = await services.apiKeys.createKey(em, null, { channelId: channel.id, name: values.name, scopes });
  console.log(`channel: ${channel.name} (${channel.kind})\nscopes:  ${apiKey.scopes.join(', ')}\nkey:     ${key}`);
});
