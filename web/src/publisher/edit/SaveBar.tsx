import { Button, Group, Text } from '@mantine/core';
import { useState } from 'react';
import { PUBLISHER, call } from '../../shared/api';
import { ErrorMessage, Problems } from '../../shared/components';
import { useSubmit } from '../../shared/hooks';
import type { Api } from '../apiModel';

// PUT /apis/{apiId} with the fields a form edits (and the API's identity, which must match):
// the API keeps the fields a body leaves out, so two forms saved one after the other do not
// undo each other with a stale copy. The page reloads the API afterwards.
export function useApiUpdate(api: Api, reload: () => void) {
  return useSubmit(async (patch: Record<string, unknown>) => {
    const body = { name: api.name, version: api.version, context: api.context, ...patch };
    await call(`${PUBLISHER}/apis/${api.id}`, { method: 'PUT', body });
    reload();
    return true;
  });
}

// A form's end: what is wrong with it before asking the API, the API's own refusal, the save
// button and a confirmation.
export function SaveBar({
  label,
  problems = [],
  update,
  patch,
}: {
  label: string;
  problems?: string[];
  update: ReturnType<typeof useApiUpdate>;
  patch: () => Record<string, unknown>;
}) {
  const [saved, setSaved] = useState(false);
  const [tried, setTried] = useState(false);
  const shown = tried ? problems : [];
  return (
    <>
      <Problems problems={shown} />
      <ErrorMessage error={update.error} title="Not saved" />
      <Group>
        <Button
          loading={update.busy}
          onClick={async () => {
            setTried(true);
            setSaved(false);
            if (problems.length > 0) return;
            if (await update.run(patch())) setSaved(true);
          }}
        >
          {label}
        </Button>
        {saved && !update.busy && (
          <Text size="sm" c="teal" role="status">
            Saved.
          </Text>
        )}
      </Group>
    </>
  );
}
