import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createLoyaltyClient, LoyaltyApiError } from '@loyalty/client';
import { runTillJourney } from './till-journey';

const USAGE = `Usage: npm run example:storefront -- --key <api key> [--url <graphql url>] [--email <email> | --card <number>] [--persisted]

  --key, LOYALTY_API_KEY   a channel API key (npm start prints the demo one)
  --url, LOYALTY_URL       default http://localhost:4000/graphql
  --email, --card          the shopper, by email or loyalty card number (the channel's customer id);
                           default a new shopper-...@example.com
  --persisted              send operations as their sha256 only (API with PERSISTED_OPERATIONS set)`;

/** The till script: arguments win over the environment. Returns the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        email: { type: 'string' },
        card: { type: 'string' },
        persisted: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    out(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const apiKey = values.key ?? env.LOYALTY_API_KEY;
  if (!apiKey) {
    out(`No API key: pass --key or set LOYALTY_API_KEY.\n${USAGE}`);
    return 2;
  }
  if (values.email && values.card) {
    out(`Give --email or --card, not both.\n${USAGE}`);
    return 2;
  }
  const url = values.url ?? env.LOYALTY_URL ?? 'http://localhost:4000/graphql';
  const client = createLoyaltyClient({ url, apiKey, persistedOperations: values.persisted });
  try {
    const shopper = values.card ? { cardNumber: values.card } : { email: values.email ?? `shopper-${randomUUID().slice(0, 8)}@example.com` };
    await runTillJourney(client, { shopper, firstName: 'Sam' }, out);
    return 0;
  } catch (err) {
    if (!(err instanceof LoyaltyApiError)) throw err;
    out(`Failed with ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, (line) => console.log(line)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
