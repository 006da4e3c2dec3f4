import { Entity, Enum, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { AdminRole } from './permissions';

@ObjectType({ description: 'A person who uses the admin app.' })
@Entity({ tableName: 'admin_user' })
export class AdminUser {

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 254, unique: true })
  email: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  displayName: string | null = null;

  /** argon2id */
  @Property({ type: 'string', length: 200, hidden: true })
  passwordHash: string;

  @Field(() => AdminRole)
  @Enum({ items: () => AdminRole })
  role: AdminRole;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastLoginAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  disabledAt: Date | null = null;
}
