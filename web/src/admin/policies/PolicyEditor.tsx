import { ActionIcon, Button, Fieldset, Group, NumberInput, SegmentedControl, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, call } from '../../shared/api';
import { ErrorMessage, Problems } from '../../shared/components';
import { useSubmit } from '../../shared/hooks';
import {
  CONDITION_FIELDS,
  type Condition,
  type ConditionType,
  DATA_UNITS,
  type Group as ConditionalGroup,
  type Level,
  type Limit,
  type PolicyForm,
  TIME_UNITS,
  newCondition,
  newGroup,
  policyBody,
  policyProblems,
} from './policyModel';

function LimitFields({ limit, onChange, legend }: { limit: Limit; onChange: (l: Limit) => void; legend: string }) {
  const bandwidth = limit.type === 'BANDWIDTHLIMIT';
  return (
    <Fieldset legend={legend} aria-label={legend}>
      <Stack gap="xs">
        <SegmentedControl
          size="xs"
          w="fit-content"
          aria-label={`${legend}: kind`}
          value={limit.type}
          onChange={(v) => onChange({ ...limit, type: v as Limit['type'] })}
          data={[
            { value: 'REQUESTCOUNTLIMIT', label: 'Requests' },
            { value: 'BANDWIDTHLIMIT', label: 'Bandwidth' },
          ]}
        />
        <Group align="flex-end" gap="xs">
          <NumberInput w={140} label={bandwidth ? 'Data amount' : 'Request count'} min={1} value={limit.count} onChange={(count) => onChange({ ...limit, count })} />
          {bandwidth && <Select w={90} label="Unit" data={DATA_UNITS} value={limit.dataUnit} allowDeselect={false} onChange={(v) => onChange({ ...limit, dataUnit: v ?? 'MB' })} />}
          <NumberInput w={90} label="Every" min={1} value={limit.unitTime} onChange={(unitTime) => onChange({ ...limit, unitTime })} />
          <Select w={110} label="Per" data={TIME_UNITS} value={limit.timeUnit} allowDeselect={false} onChange={(v) => onChange({ ...limit, timeUnit: v ?? 'min' })} />
        </Group>
      </Stack>
    </Fieldset>
  );
}

function ConditionFields({ condition: c, index, onChange, onRemove }: { condition: Condition; index: number; onChange: (c: Condition) => void; onRemove: () => void }) {
  const f = CONDITION_FIELDS[c.type];
  return (
    <Group align="flex-end" gap="xs" aria-label={`Condition ${index + 1}`} role="group">
      <Select
        w={160}
        label={`Condition ${index + 1}`}
        data={Object.entries(CONDITION_FIELDS).map(([value, d]) => ({ value, label: d.label }))}
        value={c.type}
        allowDeselect={false}
        onChange={(v) => onChange({ ...c, type: (v ?? 'HEADERCONDITION') as ConditionType })}
      />
      {c.type === 'IPCONDITION' ? (
        <>
          <Select
            w={130}
            label="Match"
            data={[
              { value: 'IPSPECIFIC', label: 'One address' },
              { value: 'IPRANGE', label: 'A range' },
            ]}
            value={c.ipType}
            allowDeselect={false}
            onChange={(v) => onChange({ ...c, ipType: (v ?? 'IPSPECIFIC') as Condition['ipType'] })}
          />
          <TextInput w={170} label={c.ipType === 'IPRANGE' ? 'From address' : 'Address'} value={c.ip} onChange={(e) => onChange({ ...c, ip: e.currentTarget.value })} />
          {c.ipType === 'IPRANGE' && <TextInput w={170} label="To address" value={c.endIp} onChange={(e) => onChange({ ...c, endIp: e.currentTarget.value })} />}
        </>
      ) : (
        <>
          <TextInput w={170} label={f.nameLabel} value={c.name} onChange={(e) => onChange({ ...c, name: e.currentTarget.value })} />
          <TextInput w={200} label={f.valueLabel} value={c.value} onChange={(e) => onChange({ ...c, value: e.currentTarget.value })} />
        </>
      )}
      <Switch label="Invert" mb={8} checked={c.invert} onChange={(e) => onChange({ ...c, invert: e.currentTarget.checked })} />
      <ActionIcon variant="default" size="lg" aria-label={`Remove condition ${index + 1}`} onClick={onRemove}>
        ×
      </ActionIcon>
    </Group>
  );
}

function GroupFields({ group: g, index, onChange, onRemove }: { group: ConditionalGroup; index: number; onChange: (g: ConditionalGroup) => void; onRemove: () => void }) {
  const name = `Conditional group ${index + 1}`;
  return (
    <Fieldset legend={name} aria-label={name}>
      <Stack gap="xs">
        <TextInput label="Description" value={g.description} onChange={(e) => onChange({ ...g, description: e.currentTarget.value })} />
        <Text size="xs" c="dimmed">
          A call matching every condition below gets this group's limit instead of the default one.
        </Text>
        {g.conditions.map((c, i) => (
          <ConditionFields
            key={i}
            condition={c}
            index={i}
            onChange={(changed) => onChange({ ...g, conditions: g.conditions.map((x, j) => (j === i ? changed : x)) })}
            onRemove={() => onChange({ ...g, conditions: g.conditions.filter((_, j) => j !== i) })}
          />
        ))}
        <Button variant="subtle" size="xs" w="fit-content" onClick={() => onChange({ ...g, conditions: [...g.conditions, newCondition()] })}>
          Add a condition
        </Button>
        <LimitFields legend={`${name}: limit`} limit={g.limit} onChange={(limit) => onChange({ ...g, limit })} />
        <Button variant="light" color="red" size="xs" w="fit-content" onClick={onRemove}>
          Remove {name.toLowerCase()}
        </Button>
      </Stack>
    </Fieldset>
  );
}

// Creates a policy of a level (policyId absent) or updates one, showing what the form can tell
// is wrong before asking, and the API's own refusal after.
export function PolicyEditor({
  level,
  initial,
  original,
  policyId,
  submitLabel,
  onSaved,
  onCancel,
}: {
  level: Level;
  initial: PolicyForm;
  original?: Record<string, unknown>;
  policyId?: string;
  submitLabel: string;
  onSaved: () => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState(initial);
  const [tried, setTried] = useState(false);
  const problems = policyProblems(level, form);
  const save = useSubmit(async () => {
    const body = policyBody(level, form, original);
    if (policyId) await call(`${ADMIN}/throttling/policies/${level}/${policyId}`, { method: 'PUT', body });
    else await call(`${ADMIN}/throttling/policies/${level}`, { method: 'POST', body });
    return true;
  });
  const set = (change: Partial<PolicyForm>) => setForm({ ...form, ...change });
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setTried(true);
        if (problems.length > 0) return;
        if (await save.run()) {
          setTried(false);
          if (!policyId) setForm(initial);
          onSaved();
        }
      }}
    >
      <Stack gap="sm">
        <Group align="flex-end" gap="xs">
          <TextInput label="Policy name" required disabled={Boolean(policyId)} value={form.policyName} onChange={(e) => set({ policyName: e.currentTarget.value })} />
          <TextInput label="Display name" value={form.displayName} onChange={(e) => set({ displayName: e.currentTarget.value })} />
          <TextInput style={{ flex: 1, minWidth: 200 }} label="Description" value={form.description} onChange={(e) => set({ description: e.currentTarget.value })} />
        </Group>
        <LimitFields legend="Default limit" limit={form.limit} onChange={(limit) => set({ limit })} />
        {level === 'subscription' && (
          <Fieldset legend="Burst control" aria-label="Burst control">
            <Stack gap="xs">
              <Text size="xs" c="dimmed">
                Caps short bursts inside the quota: at most this many requests per second or minute. 0 turns it off.
              </Text>
              <Group align="flex-end" gap="xs">
                <NumberInput w={160} label="Burst limit (requests)" min={0} value={form.burstCount} onChange={(burstCount) => set({ burstCount })} />
                <Select w={110} label="Burst per" data={['sec', 'min']} value={form.burstUnit} allowDeselect={false} onChange={(v) => set({ burstUnit: v ?? 'sec' })} disabled={!(Number(form.burstCount) > 0)} />
              </Group>
              <Switch label="Refuse calls once the quota is reached" checked={form.stopOnQuotaReach} onChange={(e) => set({ stopOnQuotaReach: e.currentTarget.checked })} />
            </Stack>
          </Fieldset>
        )}
        {level === 'advanced' && (
          <Stack gap="xs">
            {form.groups.map((g, i) => (
              <GroupFields
                key={i}
                group={g}
                index={i}
                onChange={(changed) => set({ groups: form.groups.map((x, j) => (j === i ? changed : x)) })}
                onRemove={() => set({ groups: form.groups.filter((_, j) => j !== i) })}
              />
            ))}
            <Button variant="default" size="xs" w="fit-content" onClick={() => set({ groups: [...form.groups, newGroup()] })}>
              Add a conditional group
            </Button>
          </Stack>
        )}
        {tried && <Problems problems={problems} />}
        <ErrorMessage error={save.error} title="Not saved" />
        <Group>
          <Button type="submit" loading={save.busy}>
            {submitLabel}
          </Button>
          {onCancel && (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}
