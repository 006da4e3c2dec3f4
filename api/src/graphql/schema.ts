import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { AuthResolver } from '../auth/auth.resolver';
import { AuditResolver } from '../audit/audit.resolver';
import { ChannelResolver } from '../channels/channel.resolver';
import { MemberConnectionResolver, MemberResolver } from '../members/member.resolver';
import type { Services } from '../services';
import { validationErrorPaths } from './validation-errors';

const resolvers = [AuthResolver, AuditResolver, ChannelResolver, MemberResolver, MemberConnectionResolver] as const;

/** Resolvers are built once with their services; the container hands type-graphql those instances. */
function containerFor(services: Services | null): ContainerType {
  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(services?.adminAuth as never)],
    [AuditResolver, new AuditResolver()],
    [ChannelResolver, new ChannelResolver(services?.apiKeys as never)],
    [MemberResolver, new MemberResolver(services?.members as never)],
    [MemberConnectionResolver, new MemberConnectionResolver()],
  ]);
  return { get: (cls) => instances.get(cls) };
}

/** `services` may be null when only the SDL is needed (npm run schema). */
export function buildGraphQLSchema(services: Services | null): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    container: containerFor(services),
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false, skipMissingProperties: false },
    globalMiddlewares: [validationErrorPaths],
  });
}
