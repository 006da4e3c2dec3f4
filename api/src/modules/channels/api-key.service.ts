import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, conflictOnDuplicate } from '../../base/errors';
import { SalesChannelKind } from '../../base/enums';
import type { AuditService } from '../audit/audit.service';
import { AccessControl } from '../auth/permissions';
import type { ChannelPrincipal } from '../auth/principal';
import { actorRef } from '../auth/principal';
import { ApiKey, keyIsUsableAt } from './api-key.entity';
import { SalesChannel } from './sales-channel.entity';
import type { CreateApiKeyInput, CreateSalesChannelInput, DirectoryApiKey, RevokeApiKeyInput, RotateApiKeyInput } from './channel.types';
import { MINUTE_MS } from '../../base/time';

/** Keys look like `lk_<prefix>_<secret>`; the prefix finds the row, the secret proves possession. */
const KEY_PATTERN = /^lk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const LAST_USED_RESOLUTION_MS = MINUTE_MS;

/** What authentication needs of a key row, kept between requests (plain data, never an entity of a request's em). */
interface CachedKey {
  id: string;
  secretHash: string;
  revokedAt: Date | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  scopes: string[];
  channelId: string;
  channelKind: SalesChannelKind;
  cachedAt: number;
}

/** Tells the other API processes that a key changed, so they drop it from their caches (Redis pub/sub in the API). */
export interface KeyChangeBroadcast {
  publish(prefix: string): void;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith('lk_');
}

function generatePrefix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(12);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Channel API keys. Every storefront and till request authenticates, so verified key rows are cached per process for
 * `cacheMs` (API_KEY_CACHE_SECONDS): a revocation or rotation drops the key at once in this process, in the others
 * when the broadcast reaches them, and within `cacheMs` at worst (e.g. while Redis is down).
 */
export class ApiKeyService {
  private readonly cache = new Map<string, CachedKey>();
  private broadcast: KeyChangeBroadcast | null = null;

  constructor(
    private readonly audit: AuditService,
    private readonly cacheMs = 0,
    /** Which scopes exist and what each grants, plugins' included. */
    readonly access: AccessControl = new AccessControl(),
  ) {}

  /** The API process wires this to Redis; scripts and tests without it only drop their own cache. */
  setBroadcast(broadcast: KeyChangeBroadcast | null): void {
    this.broadcast = broadcast;
  }

  /** A key changed elsewhere (another process revoked or rotated it). */
  forget(prefix: string): void {
    this.cache.delete(prefix);
  }

  forgetAll(): void {
    this.cache.clear();
  }

  private changed(prefix: string): void {
    this.forget(prefix);
    this.broadcast?.publish(prefix);
  }

  /** Every key's name and channel for the staff directory, revoked and expired ones too: what they did still names them. */
  async directory(em: EntityManager): Promise<DirectoryApiKey[]> {
    const keys = await em.find(ApiKey, {}, { populate: ['channel'], orderBy: { createdAt: 'desc', id: 'asc' } });
    return keys.map((k) => ({ id: k.id, name: k.name, channelName: k.channel.getEntity().name }));
  }

  async createChannel(em: EntityManager, ctx: Context | null, input: CreateSalesChannelInput): Promise<SalesChannel> {
    if (input.kind === SalesChannelKind.ADMIN) {
      throw AppError.badInput([{ path: 'input.kind', message: 'ADMIN is the back office, not a sales channel' }]);
    }
    return conflictOnDuplicate(
      () =>
        em.transactional(async (tx) => {
          const channel = tx.create(SalesChannel, { name: input.name.trim(), kind: input.kind });
          await tx.flush();
          this.audit.record(tx, ctx, {
            action: 'salesChannel.create',
            entityType: 'SalesChannel',
            entityId: channel.id,
            after: { name: channel.name, kind: channel.kind },
          });
          return channel;
        }),
      () => AppError.conflict('IDENTIFIER_TAKEN', 'A sales channel with this name already exists', { field: 'input.name' }),
    );
  }

  async createKey(em: EntityManager, ctx: Context | null, input: CreateApiKeyInput): Promise<{ key: string; apiKey: ApiKey }> {
    const unknown = input.scopes.filter((s) => !this.access.isScope(s));
    if (unknown.length) throw AppError.badInput([{ path: 'input.scopes', message: `unknown scope(s) ${unknown.join(', ')}` }]);
    return em.transactional(async (tx) => {
      const channel = await tx.findOne(SalesChannel, input.channelId);
      if (!channel) throw AppError.notFound('SalesChannel', input.channelId);
      const issued = this.issue(tx, ctx, channel, input.name, input.scopes, input.expiresAt ?? null, null);
      this.audit.record(tx, ctx, {
        action: 'apiKey.create',
        entityType: 'ApiKey',
        entityId: issued.apiKey.id,
        after: { channelId: channel.id, name: input.name, scopes: input.scopes, prefix: issued.apiKey.prefix },
      });
      return issued;
    });
  }

  /** Issues a replacement with the same channel and scopes; the old key stops working after the grace period. */
  async rotateKey(em: EntityManager, ctx: Context | null, input: RotateApiKeyInput): Promise<{ key: string; apiKey: ApiKey }> {
    const rotated = await em.transactional(async (tx) => {
      // Locked (the key's row only): a second rotation or a revocation at once waits, then sees this one's result.
      const old = await tx.findOne(ApiKey, input.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!old) throw AppError.notFound('ApiKey', input.id);
      await tx.populate(old, ['channel']);
      const now = new Date();
      if (!old.isUsableAt(now)) throw AppError.conflict('API_KEY_REVOKED', 'This key is already revoked or expired');
      const graceEnd = new Date(now.getTime() + input.graceSeconds * 1000);
      const before = { expiresAt: old.expiresAt, revokedAt: old.revokedAt };
      if (input.graceSeconds === 0) old.revokedAt = now;
      else if (!old.expiresAt || old.expiresAt > graceEnd) old.expiresAt = graceEnd;
      const issued = this.issue(tx, ctx, old.channel.getEntity(), old.name, old.scopes, null, old.id);
      this.audit.record(tx, ctx, {
        action: 'apiKey.rotate',
        entityType: 'ApiKey',
        entityId: old.id,
        before,
        after: { expiresAt: old.expiresAt, revokedAt: old.revokedAt, replacedBy: issued.apiKey.id },
      });
      return { ...issued, oldPrefix: old.prefix };
    });
    this.changed(rotated.oldPrefix);
    return { key: rotated.key, apiKey: rotated.apiKey };
  }

  async revokeKey(em: EntityManager, ctx: Context | null, input: RevokeApiKeyInput): Promise<ApiKey> {
    const revoked = await em.transactional(async (tx) => {
      const key = await tx.findOne(ApiKey, input.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!key) throw AppError.notFound('ApiKey', input.id);
      if (key.revokedAt) return key;
      key.revokedAt = new Date();
      this.audit.record(tx, ctx, {
        action: 'apiKey.revoke',
        entityType: 'ApiKey',
        entityId: key.id,
        before: { revokedAt: null },
        after: { revokedAt: key.revokedAt, reason: input.reason ?? null },
      });
      return key;
    });
    this.changed(revoked.prefix);
    return revoked;
  }

  /** Resolves a presented key to its channel, or throws UNAUTHENTICATED. */
  async authenticate(em: EntityManager, presented: string): Promise<ChannelPrincipal> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) throw AppError.unauthenticated('Invalid API key');
    const [, prefix, secret] = match;
    const key = await this.keyByPrefix(em, prefix);
    const now = new Date();
    const valid =
      key !== null && timingSafeEqual(Buffer.from(key.secretHash, 'hex'), Buffer.from(sha256(secret), 'hex'));
    if (!key || !valid) throw AppError.unauthenticated('Invalid API key');
    if (!keyIsUsableAt(key, now)) throw AppError.unauthenticated('This API key has been revoked or has expired');
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      key.lastUsedAt = now;
      await em.nativeUpdate(ApiKey, { id: key.id }, { lastUsedAt: now });
    }
    return {
      kind: 'channel',
      apiKeyId: key.id,
      channelId: key.channelId,
      channelKind: key.channelKind,
      permissions: this.access.forScopes(key.scopes),
    };
  }

  /** Unknown prefixes are not cached, so a made-up key costs a lookup each time but never fills the cache. */
  private async keyByPrefix(em: EntityManager, prefix: string): Promise<CachedKey | null> {
    const cached = this.cache.get(prefix);
    if (cached && Date.now() - cached.cachedAt < this.cacheMs) return cached;
    const row = await em.findOne(ApiKey, { prefix }, { populate: ['channel'] });
    if (!row) {
      this.cache.delete(prefix);
      return null;
    }
    const channel = row.channel.getEntity();
    const key: CachedKey = {
      id: row.id,
      secretHash: row.secretHash,
      revokedAt: row.revokedAt,
      expiresAt: row.expiresAt,
      lastUsedAt: row.lastUsedAt,
      scopes: [...row.scopes],
      channelId: channel.id,
      channelKind: channel.kind,
      cachedAt: Date.now(),
    };
    if (this.cacheMs > 0) this.cache.set(prefix, key);
    return key;
  }

  private issue(
    em: EntityManager,
    ctx: Context | null,
    channel: SalesChannel,
    name: string,
    scopes: string[],
    expiresAt: Date | null,
    rotatedFromId: string | null,
  ): { key: string; apiKey: ApiKey } {
    const prefix = generatePrefix();
    const secret = randomBytes(32).toString('base64url');
    const apiKey = em.create(ApiKey, {
      channel,
      name,
      prefix,
      secretHash: sha256(secret),
      scopes: [...scopes].sort(),
      createdBy: actorRef(ctx?.principal ?? null),
      expiresAt,
      rotatedFromId,
    });
    return { key: `lk_${prefix}_${secret}`, apiKey };
  }
}
