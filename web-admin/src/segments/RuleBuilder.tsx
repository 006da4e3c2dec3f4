import { useId } from 'react';
import { isRfmSegment, rfmSegmentLabels } from '../insights/rfm-segments';
import { humanize } from '../shared/format';
import { ownValue } from '../shared/lookup';
import {
  newCondition,
  newGroup,
  operatorLabels,
  updateNode,
  withAttribute,
  type AttributeInfo,
  type ConditionNode,
  type GroupNode,
  type OperatorShapes,
  type ValueShape,
  type RuleNode,
} from './rule-tree';

interface RuleBuilderProps {
  root: GroupNode;
  onChange(root: GroupNode): void;
  attributes: AttributeInfo[];
  /** The shape of each operator's value (one, list, range), from the grammar. */
  shapes: OperatorShapes;
  /** Known codes per attribute (tier and plan codes), offered as suggestions. */
  suggestions: Record<string, string[]>;
  /** Messages per node id, from the API's `extensions.fields`. */
  errors: Map<string, string[]>;
  maxDepth: number;
  readOnly?: boolean;
}

/** AND / OR groups of conditions, each of which may be negated, edited in place. */
export function RuleBuilder(props: RuleBuilderProps) {
  return (
    <div className="rule-builder" data-testid="rule-builder">
      <Group {...props} node={props.root} depth={1} isRoot />
    </div>
  );
}

interface NodeProps extends RuleBuilderProps {
  depth: number;
}

function Group({ node, depth, isRoot, ...props }: NodeProps & { node: GroupNode; isRoot?: boolean }) {
  const { root, onChange, attributes, readOnly } = props;
  const set = (next: RuleNode | null) => onChange(updateNode(root, node.id, next));
  const canNest = depth + 2 <= props.maxDepth;
  const labelId = useId();
  return (
    <div className={`rule-group${node.isNegated ? ' is-negated' : ''}`} role="group" aria-labelledby={labelId} data-testid="rule-group">
      <div className="rule-group-header">
        <span id={labelId} className="rule-group-title">
          {isRoot ? 'Members who match' : 'Group:'}
        </span>
        <label className="inline-control">
          <span className="sr-only">Combine conditions with</span>
          <select
            value={node.combinator}
            disabled={readOnly}
            onChange={(e) => set({ ...node, combinator: e.target.value as 'and' | 'or' })}
            data-testid="group-combinator"
          >
            <option value="and">all of (AND)</option>
            <option value="or">any of (OR)</option>
          </select>
        </label>
        <NegateToggle node={node} onChange={set} readOnly={readOnly} />
        {!isRoot && !readOnly && (
          <button type="button" className="ghost small" onClick={() => set(null)} aria-label="Remove group" data-testid="group-remove">
            Remove group
          </button>
        )}
      </div>
      <NodeErrors messages={props.errors.get(node.id)} />
      {node.children.length === 0 && <p className="muted small">No conditions yet: add one below.</p>}
      <ol className="rule-children">
        {node.children.map((child) => (
          <li key={child.id}>
            {child.kind === 'group' ? (
              <Group {...props} node={child} depth={depth + 1} />
            ) : (
              <Condition {...props} node={child} depth={depth + 1} />
            )}
          </li>
        ))}
      </ol>
      {!readOnly && (
        <div className="actions">
          <button
            type="button"
            className="secondary small"
            onClick={() => set({ ...node, children: [...node.children, newCondition(attributes[0])] })}
            data-testid="add-condition"
          >
            + Condition
          </button>
          {canNest && (
            <button
              type="button"
              className="secondary small"
              onClick={() => set({ ...node, children: [...node.children, newGroup(node.combinator === 'and' ? 'or' : 'and', [newCondition(attributes[0])])] })}
              data-testid="add-group"
            >
              + Group
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function NegateToggle({ node, onChange, readOnly }: { node: RuleNode; onChange(next: RuleNode): void; readOnly?: boolean }) {
  return (
    <label className="checkbox negate">
      <input
        type="checkbox"
        checked={node.isNegated}
        disabled={readOnly}
        onChange={(e) => onChange({ ...node, isNegated: e.target.checked })}
        data-testid="node-negate"
      />
      NOT
    </label>
  );
}

function Condition({ node, ...props }: NodeProps & { node: ConditionNode }) {
  const { root, onChange, attributes, readOnly } = props;
  const set = (next: RuleNode | null) => onChange(updateNode(root, node.id, next));
  const attribute = attributes.find((a) => a.name === node.attribute) ?? attributes[0];
  const messages = props.errors.get(node.id);
  return (
    <div className={`rule-condition${messages ? ' has-error' : ''}`} data-testid="rule-condition">
      <div className="rule-condition-controls">
        <NegateToggle node={node} onChange={set} readOnly={readOnly} />
        <label className="inline-control">
          <span className="sr-only">Attribute</span>
          <select
            value={attribute.name}
            disabled={readOnly}
            onChange={(e) => set(withAttribute(node, attributes.find((a) => a.name === e.target.value) ?? attribute))}
            title={describeAttribute(attribute, node.windowDays)}
            data-testid="condition-attribute"
          >
            {attributes.map((a) => (
              <option key={a.name} value={a.name}>
                {attributeLabel(a.name)}
              </option>
            ))}
          </select>
        </label>
        {attribute.qualifier && (
          <label className="inline-control">
            of
            <input
              type="text"
              value={node.qualifier}
              disabled={readOnly}
              placeholder={attribute.qualifier.hint}
              title={attribute.qualifier.description}
              onChange={(e) => set({ ...node, qualifier: e.target.value })}
              aria-label={`What ${attributeLabel(attribute.name)} is of`}
              data-testid="condition-qualifier"
            />
          </label>
        )}
        <label className="inline-control">
          <span className="sr-only">Operator</span>
          <select value={node.op} disabled={readOnly} onChange={(e) => set({ ...node, op: e.target.value })} data-testid="condition-op">
            {attribute.operators.map((op) => (
              <option key={op} value={op}>
                {ownValue(operatorLabels, op) ?? op}
              </option>
            ))}
          </select>
        </label>
        <ValueControl node={node} attribute={attribute} shape={props.shapes.get(node.op) ?? 'one'} onChange={set} suggestions={ownValue(props.suggestions, attribute.name)} readOnly={readOnly} />
        {attribute.needsWindowDays && (
          <label className="inline-control window">
            in the last
            <input
              type="number"
              min={1}
              step={1}
              value={node.windowDays}
              disabled={readOnly}
              onChange={(e) => set({ ...node, windowDays: e.target.value })}
              aria-label="Window in days"
              data-testid="condition-window"
            />
            days
          </label>
        )}
        {!readOnly && (
          <button type="button" className="ghost small" onClick={() => set(null)} aria-label={`Remove condition on ${attributeLabel(attribute.name)}`} data-testid="condition-remove">
            ×
          </button>
        )}
      </div>
      <p className="muted small rule-hint" data-testid="condition-hint">
        {describeAttribute(attribute, node.windowDays)}
      </p>
      <NodeErrors messages={messages} />
    </div>
  );
}

function ValueControl({
  node,
  attribute,
  shape: arity,
  onChange,
  suggestions,
  readOnly,
}: {
  node: ConditionNode;
  attribute: AttributeInfo;
  shape: ValueShape;
  onChange(next: ConditionNode): void;
  suggestions?: string[];
  readOnly?: boolean;
}) {
  const listId = useId();
  const label = `Value of ${attributeLabel(attribute.name)}`;

  if (attribute.values) {
    if (arity === 'list') {
      return (
        <fieldset className="value-choices" aria-label={label} data-testid="condition-values">
          {attribute.values.map((v) => (
            <label key={v} className="checkbox">
              <input
                type="checkbox"
                checked={node.values.includes(v)}
                disabled={readOnly}
                onChange={(e) => onChange({ ...node, values: e.target.checked ? [...node.values, v] : node.values.filter((x) => x !== v) })}
              />
              {valueLabel(attribute.name, v)}
            </label>
          ))}
        </fieldset>
      );
    }
    return (
      <label className="inline-control">
        <span className="sr-only">{label}</span>
        <select value={node.value} disabled={readOnly} onChange={(e) => onChange({ ...node, value: e.target.value })} data-testid="condition-value">
          {attribute.values.map((v) => (
            <option key={v} value={v}>
              {valueLabel(attribute.name, v)}
            </option>
          ))}
        </select>
      </label>
    );
  }

  const isNumber = attribute.valueType === 'INTEGER' || attribute.valueType === 'NUMBER';
  const inputProps = {
    type: isNumber ? 'number' : attribute.valueType === 'DATE' ? 'date' : 'text',
    step: attribute.valueType === 'NUMBER' ? 'any' : isNumber ? 1 : undefined,
    min: attribute.min ?? undefined,
    max: attribute.max ?? undefined,
    disabled: readOnly,
    list: suggestions?.length ? listId : undefined,
  };
  const datalist = suggestions?.length ? (
    <datalist id={listId}>
      {suggestions.map((s) => (
        <option key={s} value={s} />
      ))}
    </datalist>
  ) : null;

  if (arity === 'range') {
    return (
      <span className="inline-control range">
        <input {...inputProps} value={node.value} onChange={(e) => onChange({ ...node, value: e.target.value })} aria-label={`${label}: from`} data-testid="condition-value" />
        and
        <input {...inputProps} value={node.valueTo} onChange={(e) => onChange({ ...node, valueTo: e.target.value })} aria-label={`${label}: to`} data-testid="condition-value-to" />
      </span>
    );
  }
  if (arity === 'list') {
    return (
      <span className="inline-control">
        <input
          type="text"
          disabled={readOnly}
          value={node.values.join(',')}
          placeholder="comma-separated"
          onChange={(e) => onChange({ ...node, values: e.target.value.split(',') })}
          aria-label={`${label}, comma-separated`}
          data-testid="condition-value"
        />
      </span>
    );
  }
  return (
    <span className="inline-control">
      <input
        {...inputProps}
        value={node.value}
        placeholder={attribute.valueType === 'CODE' ? (suggestions?.[0] ?? 'code') : undefined}
        onChange={(e) => onChange({ ...node, value: e.target.value })}
        aria-label={label}
        data-testid="condition-value"
      />
      {datalist}
    </span>
  );
}

function NodeErrors({ messages }: { messages?: string[] }) {
  if (!messages?.length) return null;
  return (
    <ul className="plain rule-errors" role="alert" data-testid="rule-error">
      {messages.map((m) => (
        <li key={m} className="field-error">
          {m}
        </li>
      ))}
    </ul>
  );
}

const attributeLabels: Record<string, string> = {
  tier: 'Tier',
  pointsBalance: 'Points balance',
  lifetimePoints: 'Lifetime points',
  daysSinceLastPurchase: 'Days since last purchase',
  purchaseCount: 'Orders',
  monetaryMinor: 'Spend (minor units)',
  rfmSegment: 'RFM segment',
  channelsUsed: 'Channels used',
  country: 'Country',
  consents: 'Consents',
  categoriesBought: 'Categories bought',
  churnBand: 'Churn band',
  churnScore: 'Churn score',
  churnScoreChange: 'Churn score change over 4+ weeks',
  membershipPlan: 'Membership plan',
  enrolledAt: 'Enrolled on',
  status: 'Status',
  valueBand: 'Value band',
  valueAtRisk: 'Value at risk (minor units, e.g. pence)',
  npsScore: 'NPS score',
  npsCategory: 'NPS category',
  csatScore: 'CSAT score',
  activityCount: 'Activity count',
  challengeProgressPercent: 'Challenge progress (%)',
  challengeState: 'Challenge state',
};

/**
 * A readable name for a grammar attribute. One a plugin or a later API adds has no label here, so its camelCase name
 * is spelt out in words ("loyaltyStreakDays" → "Loyalty streak days").
 */
export function attributeLabel(name: string): string {
  return ownValue(attributeLabels, name) ?? camelCaseToWords(name);
}

/** A value an attribute takes, in words: RFM segments as the RFM page names them ("Can't lose them"), others humanised. */
function valueLabel(attribute: string, value: string): string {
  return attribute === 'rfmSegment' && isRfmSegment(value) ? rfmSegmentLabels[value] : humanize(value);
}

function camelCaseToWords(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The grammar's description of an attribute, which names the window by its input field (`windowDays`): here it reads
 * as the days the condition's "in the last … days" box holds.
 */
function describeAttribute(attribute: AttributeInfo, windowDays: string): string {
  const days = windowDays.trim() === '' ? 'so many' : windowDays.trim();
  return attribute.description.replace(/`windowDays` days/g, `${days} days`).replace(/`windowDays`/g, 'the window in days');
}
