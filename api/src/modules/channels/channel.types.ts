import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { ArrayMinSize, ArrayUnique, IsEnum, IsOptional, IsUUID, Length, Max, MaxLength, Min, MinDate } from 'class-validator';
import { SalesChannelKind } from '../../base/enums';
import { ApiKeyScope } from '../auth/permissions';
import { ApiKey } from './api-key.entity';

@InputType()
export class CreateSalesChannelInput {
  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => SalesChannelKind)
  @IsEnum(SalesChannelKind)
  kind: SalesChannelKind;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  channelId: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  /** The enum lists the app's scopes, plugins' included; the service checks them again for callers outside GraphQL. */
  @Field(() => [ApiKeyScope])
  @ArrayMinSize(1, { message: 'must name at least one scope' })
  @ArrayUnique()
  scopes: string[];

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  @MinDate(() => new Date(), { message: 'must be in the future' })
  expiresAt?: Date | null;
}

@InputType()
export class RotateApiKeyInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => Int, {
    defaultValue: 0,
    description: 'How long the old key keeps working, so tills can switch without downtime (max 7 days).',
  })
  @Min(0)
  @Max(7 * 24 * 3600)
  graceSeconds: number;
}

@ObjectType({ description: 'A new API key. The secret `key` is shown only here, once.' })
export class CreatedApiKey {
  @Field(() => String)
  key: string;

  @Field(() => ApiKey)
  apiKey: ApiKey;
}

@InputType()
export class RevokeApiKeyInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  reason?: string | null;
}

@ObjectType({ description: 'A scope a key may be given, with what it lets the channel do.' })
export class ApiKeyScopeOption {
  @Field(() => ApiKeyScope)
  scope: string;

  @Field(() => String)
  description: string;

  @Field(() => Boolean, { description: "False for a plugin's scope." })
  isCore: boolean;
}

/** An API key as the staff directory names it: its name and its channel's, not its prefix, scopes or use. */
@ObjectType()
export class DirectoryApiKey {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  name: string;

  @Field(() => String)
  channelName: string;
}
