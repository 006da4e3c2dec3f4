import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { EarningRule } from './earning-rule.entity';
import type { EarningRuleService } from './earning-rule.service';
import { EarningRuleInput, EarningRuleKindInfo, UpdateEarningRuleInput } from './earning.types';
import { ProgrammeSettings } from '../programme/programme-settings.entity';
import type { ProgrammeService } from '../programme/programme.service';
import { UpdateProgrammeSettingsInput } from '../programme/programme.types';

@Resolver()
export class EarningResolver {
  constructor(
    private readonly ruleService: EarningRuleService,
    private readonly programme: ProgrammeService,
  ) {}

  @Authorized(Permission.PROGRAMME_MANAGE, Permission.ORDERS_READ)
  @Query(() => [EarningRule], { description: 'The current version of each rule, or every version with includeHistory.' })
  earningRules(@Arg('includeHistory', () => Boolean, { defaultValue: false }) includeHistory: boolean, @Ctx() ctx: Context) {
    return this.ruleService.list(ctx.em, includeHistory);
  }

  @Authorized(Permission.PROGRAMME_MANAGE, Permission.ORDERS_READ)
  @Query(() => [EarningRuleKindInfo], { description: "Every kind a rule may have, built in or a plugin's, with its arguments: what the admin app's rule form shows." })
  earningRuleKinds(): EarningRuleKindInfo[] {
    return this.ruleService.kinds.list().map((k) => ({
      ...k,
      params: k.params.map((p) => ({
        name: p.name,
        label: p.label,
        type: p.type,
        required: p.required ?? false,
        min: p.min ?? null,
        max: p.max ?? null,
        maxLength: p.maxLength ?? null,
        options: p.options ? [...p.options] : null,
        description: p.description ?? null,
      })),
    }));
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => EarningRule)
  createEarningRule(@Arg('input', () => EarningRuleInput) input: EarningRuleInput, @Ctx() ctx: Context) {
    return this.ruleService.create(ctx, input);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => EarningRule, { description: 'Writes a new version; set isActive false to retire the rule.' })
  updateEarningRule(@Arg('input', () => UpdateEarningRuleInput) input: UpdateEarningRuleInput, @Ctx() ctx: Context) {
    return this.ruleService.update(ctx, input);
  }

  @Authorized()
  @Query(() => ProgrammeSettings)
  programmeSettings(@Ctx() ctx: Context) {
    return this.programme.settings(ctx.em);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => ProgrammeSettings)
  updateProgrammeSettings(@Arg('input', () => UpdateProgrammeSettingsInput) input: UpdateProgrammeSettingsInput, @Ctx() ctx: Context) {
    return this.programme.update(ctx, input);
  }
}
