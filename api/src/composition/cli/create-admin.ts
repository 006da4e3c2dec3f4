import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AdminRole } from '../../modules/auth/permissions';
import { runCli } from './run';

const USAGE = 'usage: npm run create-admin -- --email <email> [--role ADMIN|MARKETER|ANALYST] [--password <at least 12 chars>]';

runCli('create-admin', async ({ orm, services }) => {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, role: { type: 'string', default: 'ADMIN' }, password: { type: 'string' } },
  });
  if (!values.email) throw new Error(USAGE);
  if (!Object.values(AdminRole).includes(values.role as AdminRole)) throw new Error(`unknown role ${values.role}\n${USAGE}`);
  const password = values.password ?? randomBytes(12).toString('base64url');
  if (password.length < 12) throw new Error('password must be at least 12 characters');
  const admin = await services.adminAuth.createAdminUser(orm.em.fork(), null, {
    email: values.email,
    password,
    role: values.role as AdminRole,
  });
  console.log(`created ${admin.role} ${admin.email}${values.password ? '' : ` with password ${password}`}`);
});
