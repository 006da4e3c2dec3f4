import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsEmail, IsEnum, IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { AdminUser } from './admin-user.entity';
import { AdminRole } from './permissions';

@InputType()
export class LoginInput {
  @Field(() => String)
  @MaxLength(254)
  email: string;

  @Field(() => String)
  @MaxLength(200)
  password: string;
}

@ObjectType()
export class AdminSession {
  @Field(() => String, { description: 'Send as `Authorization: Bearer <token>`.' })
  token: string;

  @Field(() => DateTimeISOResolver)
  expiresAt: Date;

  @Field(() => AdminUser)
  admin: AdminUser;
}

@InputType()
export class ChangePasswordInput {
  @Field(() => String)
  @MaxLength(200)
  currentPassword: string;

  @Field(() => String, { description: '12 to 200 characters, not containing the email address, not a commonly used password.' })
  @Length(12, 200, { message: 'must be 12 to 200 characters' })
  newPassword: string;
}

@InputType()
export class CreateAdminUserInput {
  @Field(() => String)
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email: string;

  @Field(() => String, { description: '12 to 200 characters, not containing the email address, not a commonly used password.' })
  @Length(12, 200, { message: 'must be 12 to 200 characters' })
  password: string;

  @Field(() => AdminRole)
  @IsEnum(AdminRole)
  role: AdminRole;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100)
  displayName?: string | null;
}

@InputType()
export class UpdateAdminUserInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => AdminRole, { nullable: true, description: 'Takes effect on the user’s next request.' })
  @IsOptional()
  @IsEnum(AdminRole)
  role?: AdminRole | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100)
  displayName?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'false disables the user and ends their sessions at once; true lets them sign in again.',
  })
  @IsOptional()
  isActive?: boolean | null;
}

/** An admin user as the staff directory names them: the email and nothing else (no role, no status). */
@ObjectType()
export class DirectoryAdmin {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  email: string;
}

/**
 * Who an actor reference (`admin:<id>`, `apiKey:<id>`) names, for every admin role (`staff:read`): colleagues' work
 * emails and API keys' names, which the admin app shows wherever it says who did something. The channels module adds
 * `apiKeys`.
 */
@ObjectType({ description: 'Names for the admins and API keys that actor references point at; nothing else about them.' })
export class ActorDirectory {
  @Field(() => [DirectoryAdmin], { description: 'Every admin user, disabled ones included (what they did still names them), by email.' })
  admins: DirectoryAdmin[];
}
