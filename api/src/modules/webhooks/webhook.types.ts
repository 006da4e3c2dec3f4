import { ArrayMinSize, ArrayUnique, IsOptional, IsUrl, IsUUID, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { EventType } from '../events/event-types';
import { Webhook } from './webhook.entity';

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

@InputType()
export class RegisterWebhookInput {
  @Field(() => String, { description: 'http(s) URL that receives the POSTs; https is required in production.' })
  @IsUrl(URL_OPTIONS)
  @MaxLength(2000)
  url: string;

  @Field(() => [EventType])
  @ArrayMinSize(1)
  @ArrayUnique()
  eventTypes: string[];

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;
}

@InputType()
export class UpdateWebhookInput {
  @Field(() => ID)
  @IsUUID()
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  @MaxLength(2000)
  url?: string | null;

  @Field(() => [EventType], { nullable: true })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayUnique()
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true re-enables a disabled endpoint and resets its failure count.' })
  @IsOptional()
  isActive?: boolean | null;
}

@ObjectType({ description: 'An endpoint with its signing secret, which is shown only in this response.' })
export class WebhookWithSecret {
  @Field(() => Webhook)
  webhook: Webhook;

  @Field(() => String)
  secret: string;
}

@ObjectType({ description: 'An event type an endpoint can subscribe to.' })
export class WebhookEventTypeOption {
  @Field(() => EventType)
  type: string;

  @Field(() => String, { description: 'The wire name, sent as x-loyalty-event (member.enrolled).' })
  name: string;

  @Field(() => String, { nullable: true, description: "A plugin's description of its type; null for the core's." })
  description: string | null;

  @Field(() => Boolean, { description: "False for a plugin's type." })
  isCore: boolean;
}

/** Bull payload of `api.webhook-delivery`: one job per (event, webhook). */
export interface WebhookDeliveryPayload {
  v: 1;
  deliveryId: string;
  eventId: string;
}
