import { Entity, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { newId } from '../../base/ids';
import { AdminUser } from './admin-user.entity';

/** One signed-in admin token: its id is the token's `jti`, so logging out or revoking ends it at once. */
@Entity({ tableName: 'admin_session' })
@Index({ properties: ['admin', 'revokedAt'] })
export class AdminLoginSession {
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => AdminUser, { ref: true })
  admin: Ref<AdminUser>;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime' })
  expiresAt: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  isActiveAt(now: Date): boolean {
    return !this.revokedAt && this.expiresAt > now;
  }
}
