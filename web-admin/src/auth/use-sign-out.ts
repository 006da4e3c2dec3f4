import { useCallback } from 'react';
import { useMutation } from 'urql';
import { LogoutDocument } from '../gql/graphql';
import { useSession } from './SessionProvider';

/**
 * Revokes the token on the server (so a copied token stops working), then forgets it here, even if the call fails; the
 * login page then says the session may still be used until it expires. A token the server already refuses needs no
 * revoking.
 */
export function useSignOut(): () => Promise<void> {
  const { signOut } = useSession();
  const [, logout] = useMutation(LogoutDocument);
  return useCallback(async () => {
    const result = await logout({}).catch(() => null);
    const isRevoked = result?.data?.logout === true || result?.error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
    signOut(isRevoked ? 'signed-out' : 'not-revoked');
  }, [logout, signOut]);
}
