import { useCallback } from 'react';
import { useMutation } from 'urql';
import { LogoutDocument } from '../gql/graphql';
import { useSession } from './SessionProvider';

/** Revokes the token on the server (so a copied token stops working), then forgets it here, even if the call fails. */
export function useSignOut(): () => Promise<void> {
  const { signOut } = useSession();
  const [, logout] = useMutation(LogoutDocument);
  return useCallback(async () => {
    await logout({}).catch(() => undefined);
    signOut();
  }, [logout, signOut]);
}
