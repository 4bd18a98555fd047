import { Checkbox, Divider, Stack, Switch, TagsInput, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { type Page, PUBLISHER, call } from '../../shared/api';
import { Async } from '../../shared/components';
import { useLoad } from '../../shared/hooks';
import { type Api, SCHEMES, SCHEMES_MANDATORY } from '../apiModel';
import { SaveBar, useApiUpdate } from './SaveBar';

function Schemes({ api, reload }: { api: Api; reload: () => void }) {
  const stored = (api.securityScheme as string[]) ?? ['oauth2', SCHEMES_MANDATORY];
  const [schemes, setSchemes] = useState(stored.filter((s) => s !== SCHEMES_MANDATORY));
  const [mandatory, setMandatory] = useState(stored.includes(SCHEMES_MANDATORY));
  const update = useApiUpdate(api, reload);
  return (
    <Stack gap="xs">
      <Checkbox.Group label="Callers authenticate with" value={schemes} onChange={setSchemes}>
        <Stack gap={6} mt={6}>
          {SCHEMES.map((s) => (
            <Checkbox key={s.value} value={s.value} label={s.label} />
          ))}
        </Stack>
      </Checkbox.Group>
      <Switch label="One of them is mandatory on every secured resource" checked={mandatory} onChange={(e) => setMandatory(e.currentTarget.checked)} />
      <SaveBar
        label="Save security"
        problems={schemes.length === 0 ? ['Choose at least one way to authenticate.'] : []}
        update={update}
        patch={() => ({ securityScheme: mandatory ? [...schemes, SCHEMES_MANDATORY] : schemes })}
      />
    </Stack>
  );
}

interface Tier {
  name: string;
  displayName?: string;
  description?: string;
}

function Tiers({ api, reload }: { api: Api; reload: () => void }) {
  const tiers = useLoad(() => call<Page<Tier>>(`${PUBLISHER}/throttling-policies/subscription`), []);
  const [policies, setPolicies] = useState<string[]>((api.policies as string[]) ?? []);
  const update = useApiUpdate(api, reload);
  return (
    <Stack gap="xs">
      <Async state={tiers} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Checkbox.Group label="Subscription tiers developers may choose" value={policies} onChange={setPolicies}>
            <Stack gap={6} mt={6}>
              {page.list.map((t) => (
                <Checkbox key={t.name} value={t.name} label={t.displayName || t.name} description={t.description} />
              ))}
            </Stack>
          </Checkbox.Group>
        )}
      </Async>
      <SaveBar label="Save subscription tiers" update={update} patch={() => ({ policies })} />
    </Stack>
  );
}

function Cors({ api, reload }: { api: Api; reload: () => void }) {
  const cors = (api.corsConfiguration ?? {}) as Record<string, unknown>;
  const list = (key: string, fallback: string[]) => (cors[key] as string[]) ?? fallback;
  const [enabled, setEnabled] = useState(Boolean(cors.corsConfigurationEnabled));
  const [origins, setOrigins] = useState(list('accessControlAllowOrigins', ['*']));
  const [headers, setHeaders] = useState(list('accessControlAllowHeaders', ['authorization', 'Content-Type', 'apikey']));
  const [methods, setMethods] = useState(list('accessControlAllowMethods', ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']));
  const [credentials, setCredentials] = useState(Boolean(cors.accessControlAllowCredentials));
  const update = useApiUpdate(api, reload);
  const problems = enabled && origins.length === 0 ? ['Allow at least one origin, or * for every origin.'] : [];
  if (enabled && credentials && origins.includes('*')) problems.push('Browsers refuse credentials when every origin (*) is allowed: name the origins.');
  return (
    <Stack gap="xs">
      <Switch label="Allow calls from web pages of other origins" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
      <TagsInput label="Allowed origins" description="press Enter after each; * allows every origin" value={origins} onChange={setOrigins} disabled={!enabled} />
      <TagsInput label="Allowed request headers" value={headers} onChange={setHeaders} disabled={!enabled} />
      <TagsInput label="Allowed methods" value={methods} onChange={setMethods} disabled={!enabled} />
      <Switch label="Allow credentials (cookies)" checked={credentials} onChange={(e) => setCredentials(e.currentTarget.checked)} disabled={!enabled} />
      <SaveBar
        label="Save CORS settings"
        problems={problems}
        update={update}
        patch={() => ({
          corsConfiguration: {
            ...cors,
            corsConfigurationEnabled: enabled,
            accessControlAllowOrigins: origins,
            accessControlAllowHeaders: headers,
            accessControlAllowMethods: methods,
            accessControlAllowCredentials: credentials,
          },
        })}
      />
    </Stack>
  );
}

export function SecurityTab({ api, reload }: { api: Api; reload: () => void }) {
  return (
    <Stack maw={640}>
      <Title order={4}>Authentication</Title>
      <Schemes api={api} reload={reload} />
      <Divider />
      <Title order={4}>Subscription tiers</Title>
      <Text size="sm" c="dimmed">
        A developer subscribes to the API with one of these; the tiers themselves are defined in the Admin portal.
      </Text>
      <Tiers api={api} reload={reload} />
      <Divider />
      <Title order={4}>Calls from browsers (CORS)</Title>
      <Cors api={api} reload={reload} />
    </Stack>
  );
}
