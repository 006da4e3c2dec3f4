import source from '../../../schema/operations/auth.graphql?raw';
import { operationsFrom } from '../shared/documents';

export type AdminRole = 'ADMIN' | 'MARKETER' | 'ANALYST';

export interface AdminUser {
  id: string;
  email: string;
  displayName: string | null;
  role: AdminRole;
}

export interface AdminSession {
  token: string;
  /** DateTimeISO */
  expiresAt: string;
  admin: AdminUser;
}

export interface LoginResult {
  login: AdminSession;
}

export type LoginVariables = {
  input: { email: string; password: string };
};

export interface MeResult {
  me: AdminUser;
}

const operation = operationsFrom(source);

export const LoginDocument = operation<LoginResult, LoginVariables>('Login');
export const MeDocument = operation<MeResult>('Me');
