import { useMemo } from 'react';
import { useQuery } from 'urql';
import { useCurrentAdmin } from '../auth/RequireAuth';
import { ActorDirectoryDocument, type ActorDirectoryQuery } from '../gql/graphql';
import { can } from './permissions';

/** References that name no person or key: the API's own jobs, the transaction importer, the recommender's schedule and gate. */
const namedActors: Readonly<Record<string, string>> = {
  system: 'the system',
  import: 'a transaction import',
  schedule: 'the schedule',
  bootstrap: 'the first training',
  gate: 'the promotion gate',
};

export interface ActorLabel {
  /** Words for the actor, which read after "by": an email, a key and its channel, "the system". */
  text: string;
  /** The reference is unknown, so `text` is the reference itself. */
  isRaw: boolean;
}

/**
 * Who admin and API-key references name (`actorDirectory`): every admin role may read it (`staff:read`); undefined until
 * it arrives, or if it fails. urql caches it, so every page and row shares one request.
 */
export function useActorDirectory(): ActorDirectoryQuery['actorDirectory'] | undefined {
  const me = useCurrentAdmin();
  const [{ data }] = useQuery({ query: ActorDirectoryDocument, pause: !can(me, 'staff:read') });
  return data?.actorDirectory;
}

/** Names actor references (`admin:<id>`, `apiKey:<id>`, `system`: `actorRef` in the API) in words. */
export function useActorNames(): (actor: string) => ActorLabel {
  const me = useCurrentAdmin();
  const directory = useActorDirectory();
  return useMemo(() => {
    const emails = new Map(directory?.admins.map((a) => [a.id, a.email]));
    const keys = new Map(directory?.apiKeys.map((k) => [k.id, `${k.channelName} key “${k.name}”`]));
    // The signed-in admin's own email needs no list (it names their rows while the list loads).
    emails.set(me.id, me.email);
    return (actor) => {
      if (Object.hasOwn(namedActors, actor)) return { text: namedActors[actor], isRaw: false };
      const colon = actor.indexOf(':');
      const [kind, id] = colon > 0 ? [actor.slice(0, colon), actor.slice(colon + 1)] : [actor, ''];
      const known = kind === 'admin' ? emails.get(id) : kind === 'apiKey' ? keys.get(id) : undefined;
      if (known) return { text: known, isRaw: false };
      // Without the lists (still loading, or the request failed) the kind is all there is to say; with them, an id they lack is shown as it is.
      if (!directory && id && kind === 'admin') return { text: 'an admin', isRaw: false };
      if (!directory && id && kind === 'apiKey') return { text: 'an API key', isRaw: false };
      return { text: actor, isRaw: true };
    };
  }, [directory, me]);
}

/** Who did something, in words, with the reference itself as its tooltip. */
export function ActorName({ actor, testId }: { actor: string; testId?: string }) {
  const { text, isRaw } = useActorNames()(actor);
  return (
    <span title={actor} className={isRaw ? 'mono small' : undefined} data-testid={testId}>
      {text}
    </span>
  );
}
