import SwaggerUI from 'swagger-ui-react';
import 'swagger-ui-react/swagger-ui.css';
import { DEVPORTAL, call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';

// The API's definition as the publisher stored it, rendered by Swagger UI (read-only: calls
// go through the "Try it" tab, with the application's token and the gateway's URL).
export default function Definition({ apiId }: { apiId: string }) {
  const spec = useLoad(async () => {
    const r = await fetch(`${DEVPORTAL}/apis/${apiId}/swagger`);
    if (!r.ok) await call(`${DEVPORTAL}/apis/${apiId}/swagger`);
    return r.text();
  }, [apiId]);
  return <Async state={spec}>{(text) => <SwaggerUI spec={text} supportedSubmitMethods={[]} />}</Async>;
}
