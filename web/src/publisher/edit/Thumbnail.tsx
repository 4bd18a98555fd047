import { Button, FileInput, Group, Image, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { PUBLISHER, call } from '../../shared/api';
import { ErrorMessage } from '../../shared/components';
import { useLoad, useSubmit } from '../../shared/hooks';
import type { Api } from '../apiModel';

export const THUMBNAIL_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/svg+xml'];
export const THUMBNAIL_MAX_BYTES = 1024 * 1024;

export function thumbnailProblem(file: File | null): string | null {
  if (!file) return 'Choose an image first.';
  if (file.size > THUMBNAIL_MAX_BYTES) return `${file.name} is ${(file.size / 1048576).toFixed(1)} MB: the limit is 1 MB.`;
  if (file.type && !THUMBNAIL_TYPES.includes(file.type)) return `${file.name} is not a PNG, JPEG, GIF or SVG image.`;
  return null;
}

// The API's image on the Developer Portal's cards: shown (fetched with the token, as an object
// URL the page's policy allows) and replaced by an upload.
export function Thumbnail({ api, reload }: { api: Api; reload: () => void }) {
  const image = useLoad(
    () => (api.hasThumbnail ? call<Blob>(`${PUBLISHER}/apis/${api.id}/thumbnail`, { blob: true }).then((b) => URL.createObjectURL(b)) : Promise.resolve(null)),
    [api.id, api.hasThumbnail, api.lastUpdatedTime],
  );
  useEffect(() => () => void (image.data && URL.revokeObjectURL(image.data)), [image.data]);
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const upload = useSubmit(async (f: File) => {
    const form = new FormData();
    form.append('file', f, f.name);
    await call(`${PUBLISHER}/apis/${api.id}/thumbnail`, { method: 'PUT', body: form });
    setFile(null);
    reload();
    return true;
  });
  return (
    <Stack gap="xs">
      {image.error && <ErrorMessage error={image.error} title="The thumbnail could not be loaded" />}
      {image.data ? (
        <Image src={image.data} alt={`Thumbnail of ${api.name}`} h={100} w={160} fit="contain" radius="sm" data-testid="publisher-thumbnail" />
      ) : (
        <Text size="sm" c="dimmed">
          {image.loading ? 'Loading the thumbnail…' : 'No thumbnail: the Developer Portal shows the card without an image.'}
        </Text>
      )}
      <Group align="flex-end" gap="xs">
        <FileInput
          w={260}
          label="Thumbnail image"
          description="PNG, JPEG, GIF or SVG, at most 1 MB"
          placeholder="Choose an image"
          accept={THUMBNAIL_TYPES.join(',')}
          value={file}
          onChange={(f) => {
            setFile(f);
            setProblem(null);
          }}
          clearable
        />
        <Button
          variant="default"
          loading={upload.busy}
          onClick={() => {
            const p = thumbnailProblem(file);
            setProblem(p);
            if (!p && file) void upload.run(file);
          }}
        >
          Upload thumbnail
        </Button>
      </Group>
      <ErrorMessage error={problem ?? upload.error} title="Not uploaded" />
    </Stack>
  );
}
