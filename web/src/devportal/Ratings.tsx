import { Button, Group, Rating, Stack, Text } from '@mantine/core';
import { DEVPORTAL, call } from '../shared/api';
import { signedInUser } from '../shared/auth';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface Ratings {
  avgRating: string;
  userRating: number;
  count: number;
  pagination?: { total?: number };
}

// The API's average rating, and for a signed-in developer their own, to give, change or take back.
export function Ratings({ apiId }: { apiId: string }) {
  const ratings = useLoad(() => call<Ratings>(`${DEVPORTAL}/apis/${apiId}/ratings`), [apiId]);
  const rate = useSubmit(async (rating: number) => {
    if (rating > 0) await call(`${DEVPORTAL}/apis/${apiId}/user-rating`, { method: 'PUT', body: { rating } });
    else await call(`${DEVPORTAL}/apis/${apiId}/user-rating`, { method: 'DELETE' }); // answers no body
    return true;
  });
  const user = signedInUser();
  return (
    <Async state={ratings}>
      {(r) => {
        const total = r.pagination?.total ?? r.count;
        const average = Number(r.avgRating);
        return (
          <Stack gap={6}>
            <Group gap="xs">
              <Rating value={average} fractions={4} readOnly aria-label={`Average rating ${average.toFixed(1)} of 5`} />
              <Text size="sm" data-testid="rating-summary">
                {total === 0 ? 'Not rated yet' : `${average.toFixed(1)} of 5 from ${total} rating${total === 1 ? '' : 's'}`}
              </Text>
            </Group>
            {user && (
              <Group gap="xs" data-testid="your-rating">
                <Text size="sm" id="your-rating">
                  Your rating
                </Text>
                <Rating
                  aria-labelledby="your-rating"
                  value={r.userRating}
                  readOnly={rate.busy}
                  onChange={async (v) => (await rate.run(v)) !== undefined && ratings.reload()}
                />
                {r.userRating > 0 && (
                  <Button size="compact-xs" variant="subtle" onClick={async () => (await rate.run(0)) !== undefined && ratings.reload()}>
                    Remove my rating
                  </Button>
                )}
              </Group>
            )}
            <ErrorMessage error={rate.error} title="The rating was not saved" />
          </Stack>
        );
      }}
    </Async>
  );
}
