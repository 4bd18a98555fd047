import { ActionIcon, Button, Fieldset, Group, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { type Api, type Scope, scopesOf, storedScopes, withoutScope } from '../apiModel';
import { SaveBar, useApiUpdate } from './SaveBar';

// A scope token (RFC 6749): printable characters without spaces, quotes or backslashes.
const NAME = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function problemsOf(scopes: Scope[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, s] of scopes.entries()) {
    const name = s.name.trim();
    if (!name) problems.push(`Scope ${i + 1} needs a name.`);
    else if (!NAME.test(name)) problems.push(`${name}: a scope name has no spaces, quotes or backslashes.`);
    if (names.has(name)) problems.push(`${name} is listed twice.`);
    names.add(name);
  }
  return problems;
}

export function ScopesTab({ api, reload }: { api: Api; reload: () => void }) {
  const [scopes, setScopes] = useState(() => scopesOf(api));
  const update = useApiUpdate(api, reload);
  const set = (i: number, change: Partial<Scope>) => setScopes(scopes.map((s, j) => (j === i ? { ...s, ...change } : s)));
  const stored = new Set(scopesOf(api).map((s) => s.name));
  return (
    <Stack maw={720}>
      <Text size="sm" c="dimmed">
        A resource that requires a scope accepts only tokens issued with it; a scope bound to roles is issued only to users holding one of them.
        Choose the scopes of each resource on the Resources tab.
      </Text>
      {scopes.length === 0 && <Text c="dimmed">No scopes.</Text>}
      {scopes.map((s, i) => (
        <Fieldset key={i} legend={s.name || `Scope ${i + 1}`}>
          <Stack gap="xs">
            <Group gap="xs" align="flex-end">
              <TextInput style={{ flex: 1, minWidth: 160 }} label="Scope name" value={s.name} onChange={(e) => set(i, { name: e.currentTarget.value })} />
              <TextInput style={{ flex: 1, minWidth: 160 }} label="Display name" value={s.displayName} onChange={(e) => set(i, { displayName: e.currentTarget.value })} />
            </Group>
            <TextInput label="Description" value={s.description} onChange={(e) => set(i, { description: e.currentTarget.value })} />
            <Group gap="xs" align="flex-end" wrap="nowrap">
              <TagsInput style={{ flex: 1 }} label="Roles" description="press Enter after each; none: anyone may get it" value={s.bindings} onChange={(bindings) => set(i, { bindings })} />
              <ActionIcon variant="default" size="lg" aria-label={`Remove scope ${s.name || i + 1}`} onClick={() => setScopes(scopes.filter((_, j) => j !== i))}>
                ×
              </ActionIcon>
            </Group>
          </Stack>
        </Fieldset>
      ))}
      <Button
        variant="default"
        w="fit-content"
        onClick={() => setScopes([...scopes, { name: '', displayName: '', description: '', bindings: [], shared: false }])}
      >
        Add a scope
      </Button>
      <SaveBar
        label="Save scopes"
        problems={problemsOf(scopes)}
        update={update}
        patch={() => {
          // Removed scopes leave the resources that required them, else the API refuses the change.
          let operations = (api.operations as Record<string, unknown>[]) ?? [];
          for (const name of stored) if (!scopes.some((s) => s.name.trim() === name)) operations = withoutScope(operations, name);
          return { scopes: storedScopes(scopes), operations };
        }}
      />
    </Stack>
  );
}
