import { seedDemo } from '../seed/demo';
import { runCli } from './run';

/** Seeds the demo programme and prints its credentials as one JSON line (read by scripts/start.mjs). */
runCli('seed', async ({ orm, services, log }) => {
  const result = await seedDemo(orm.em, services, log);
  console.log(JSON.stringify(result));
});
