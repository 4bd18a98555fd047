// Throttling policies as the Admin REST API stores them, and the flat form the editor works on.

export type Level = 'subscription' | 'application' | 'advanced';
export const TIME_UNITS = ['sec', 'min', 'hour', 'day', 'week', 'month', 'year'];
export const DATA_UNITS = ['KB', 'MB', 'GB'];

export interface Limit {
  type: 'REQUESTCOUNTLIMIT' | 'BANDWIDTHLIMIT';
  count: number | string; // requests, or data amount
  dataUnit: string;
  timeUnit: string;
  unitTime: number | string;
}

export type ConditionType = 'HEADERCONDITION' | 'QUERYPARAMETERCONDITION' | 'JWTCLAIMSCONDITION' | 'IPCONDITION';

export interface Condition {
  type: ConditionType;
  invert: boolean;
  name: string; // header, query parameter or claim
  value: string; // its value (a regular expression for claims)
  ipType: 'IPSPECIFIC' | 'IPRANGE';
  ip: string; // the specific address, or the start of the range
  endIp: string;
}

export interface Group {
  description: string;
  conditions: Condition[];
  limit: Limit;
}

export interface PolicyForm {
  policyName: string;
  displayName: string;
  description: string;
  limit: Limit;
  burstCount: number | string; // subscription: requests a burst may hold (0: no burst control)
  burstUnit: string;
  stopOnQuotaReach: boolean;
  groups: Group[];
}

export const CONDITION_FIELDS: Record<ConditionType, { label: string; key: string; name: string; value: string; nameLabel: string; valueLabel: string }> = {
  HEADERCONDITION: { label: 'Header', key: 'headerCondition', name: 'headerName', value: 'headerValue', nameLabel: 'Header name', valueLabel: 'Header value' },
  QUERYPARAMETERCONDITION: {
    label: 'Query parameter',
    key: 'queryParameterCondition',
    name: 'parameterName',
    value: 'parameterValue',
    nameLabel: 'Parameter name',
    valueLabel: 'Parameter value',
  },
  JWTCLAIMSCONDITION: { label: 'JWT claim', key: 'jwtClaimsCondition', name: 'claimUrl', value: 'attribute', nameLabel: 'Claim', valueLabel: 'Value (regular expression)' },
  IPCONDITION: { label: 'IP address', key: 'ipCondition', name: '', value: '', nameLabel: '', valueLabel: '' },
};

export const newLimit = (): Limit => ({ type: 'REQUESTCOUNTLIMIT', count: 1000, dataUnit: 'MB', timeUnit: 'min', unitTime: 1 });
export const newCondition = (): Condition => ({ type: 'HEADERCONDITION', invert: false, name: '', value: '', ipType: 'IPSPECIFIC', ip: '', endIp: '' });
export const newGroup = (): Group => ({ description: '', conditions: [newCondition()], limit: newLimit() });
export const newPolicy = (): PolicyForm => ({
  policyName: '',
  displayName: '',
  description: '',
  limit: { ...newLimit(), count: 10 },
  burstCount: 0,
  burstUnit: 'sec',
  stopOnQuotaReach: true,
  groups: [],
});

type Json = Record<string, unknown>;

function limitOf(limit: unknown): Limit {
  const l = (limit ?? {}) as Json;
  const bandwidth = l.type === 'BANDWIDTHLIMIT';
  const body = ((bandwidth ? l.bandwidth : l.requestCount) ?? {}) as Json;
  return {
    type: bandwidth ? 'BANDWIDTHLIMIT' : 'REQUESTCOUNTLIMIT',
    count: Number(bandwidth ? body.dataAmount : body.requestCount) || 1,
    dataUnit: String(body.dataUnit ?? 'MB'),
    timeUnit: String(body.timeUnit ?? 'min'),
    unitTime: Number(body.unitTime) || 1,
  };
}

export function limitBody(l: Limit): Json {
  const common = { timeUnit: l.timeUnit, unitTime: Number(l.unitTime) };
  return l.type === 'BANDWIDTHLIMIT'
    ? { type: l.type, bandwidth: { ...common, dataAmount: Number(l.count), dataUnit: l.dataUnit } }
    : { type: l.type, requestCount: { ...common, requestCount: Number(l.count) } };
}

function conditionOf(c: Json): Condition {
  const type = c.type as ConditionType;
  const out: Condition = { ...newCondition(), type, invert: Boolean(c.invertCondition) };
  const f = CONDITION_FIELDS[type];
  const body = ((f && c[f.key]) ?? {}) as Json;
  if (type === 'IPCONDITION') {
    out.ipType = body.ipConditionType === 'IPRANGE' ? 'IPRANGE' : 'IPSPECIFIC';
    out.ip = String((out.ipType === 'IPRANGE' ? body.startingIP : body.specificIP) ?? '');
    out.endIp = String(body.endingIP ?? '');
  } else if (f) {
    out.name = String(body[f.name] ?? '');
    out.value = String(body[f.value] ?? '');
  }
  return out;
}

export function conditionBody(c: Condition): Json {
  const f = CONDITION_FIELDS[c.type];
  if (c.type === 'IPCONDITION')
    return {
      type: c.type,
      invertCondition: c.invert,
      ipCondition:
        c.ipType === 'IPRANGE'
          ? { ipConditionType: 'IPRANGE', startingIP: c.ip.trim(), endingIP: c.endIp.trim() }
          : { ipConditionType: 'IPSPECIFIC', specificIP: c.ip.trim() },
    };
  return { type: c.type, invertCondition: c.invert, [f.key]: { [f.name]: c.name.trim(), [f.value]: c.value } };
}

export function policyFormOf(p: Json): PolicyForm {
  return {
    policyName: String(p.policyName ?? ''),
    displayName: String(p.displayName ?? ''),
    description: String(p.description ?? ''),
    limit: limitOf(p.defaultLimit),
    burstCount: Number(p.rateLimitCount ?? 0),
    burstUnit: String(p.rateLimitTimeUnit || 'sec'),
    stopOnQuotaReach: Boolean(p.stopOnQuotaReach),
    groups: ((p.conditionalGroups as Json[]) ?? []).map((g) => ({
      description: String(g.description ?? ''),
      conditions: ((g.conditions as Json[]) ?? []).map(conditionOf),
      limit: limitOf(g.limit),
    })),
  };
}

// The body to create or update a policy of a level; `original` keeps the fields the editor
// does not show (billing plan, custom attributes, permissions...).
export function policyBody(level: Level, f: PolicyForm, original: Json = {}): Json {
  const { policyId: _id, type: _type, isDeployed: _deployed, ...kept } = original;
  const body: Json = {
    ...kept,
    policyName: f.policyName.trim(),
    displayName: f.displayName.trim() || f.policyName.trim(),
    description: f.description,
    defaultLimit: limitBody(f.limit),
  };
  if (level === 'subscription') {
    const burst = Number(f.burstCount) || 0;
    body.rateLimitCount = burst;
    if (burst > 0) body.rateLimitTimeUnit = f.burstUnit;
    else delete body.rateLimitTimeUnit;
    body.stopOnQuotaReach = f.stopOnQuotaReach;
    if (!body.billingPlan) body.billingPlan = 'FREE';
  }
  if (level === 'advanced')
    body.conditionalGroups = f.groups.map((g) => ({
      description: g.description,
      conditions: g.conditions.map(conditionBody),
      limit: limitBody(g.limit),
    }));
  return body;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const looksLikeIp = (s: string) => IPV4.test(s.trim()) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s.trim()));

// What the API would refuse, said in the form's words before asking it.
export function policyProblems(level: Level, f: PolicyForm): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_.-]{1,60}$/.test(f.policyName.trim())) problems.push('The policy name is 1 to 60 letters, digits, _, - or .');
  const checkLimit = (l: Limit, where: string) => {
    if (!(Number(l.count) >= 1)) problems.push(`${where}: the limit must be at least 1.`);
    if (!(Number(l.unitTime) >= 1)) problems.push(`${where}: the period must be at least 1 ${l.timeUnit}.`);
  };
  checkLimit(f.limit, 'Default limit');
  if (level === 'subscription' && Number(f.burstCount) < 0) problems.push('The burst limit cannot be negative.');
  if (level === 'advanced') {
    if (f.groups.length > 20) problems.push('At most 20 conditional groups.');
    f.groups.forEach((g, i) => {
      const where = `Conditional group ${i + 1}`;
      if (g.conditions.length === 0) problems.push(`${where} needs at least one condition.`);
      g.conditions.forEach((c, j) => {
        const what = `${where}, condition ${j + 1}`;
        if (c.type === 'IPCONDITION') {
          if (!looksLikeIp(c.ip)) problems.push(`${what}: "${c.ip}" is not an IP address.`);
          if (c.ipType === 'IPRANGE' && !looksLikeIp(c.endIp)) problems.push(`${what}: "${c.endIp}" is not an IP address.`);
        } else {
          if (!c.name.trim()) problems.push(`${what}: give the ${CONDITION_FIELDS[c.type].nameLabel.toLowerCase()}.`);
          if (!c.value) problems.push(`${what}: give the ${CONDITION_FIELDS[c.type].valueLabel.toLowerCase()}.`);
        }
      });
      checkLimit(g.limit, where);
    });
  }
  return problems;
}

export function limitText(limit: unknown): string {
  const l = limitOf(limit);
  const per = Number(l.unitTime) === 1 ? l.timeUnit : `${l.unitTime} ${l.timeUnit}`;
  return l.type === 'BANDWIDTHLIMIT' ? `${l.count} ${l.dataUnit} / ${per}` : `${l.count} / ${per}`;
}
