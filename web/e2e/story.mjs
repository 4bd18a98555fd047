// The portals' story in a real Chromium (playwright-core driving Debian's /usr/bin/chromium)
// against a running node: a publisher imports an OpenAPI file, enables CORS, deploys and
// publishes it; a developer signs up, creates an application, subscribes, generates keys and a
// token, calls the API from "Try it" and sees the call in the usage chart; an administrator
// adds a subscription policy and a deny policy, and the developer's next call is refused.
// tests/test_web_portals.py starts the node and runs this with:
//   PORTICO_URL, GATEWAY_URL, BACKEND_URL, ADMIN_USER, ADMIN_PASSWORD, OPENAPI_FILE,
//   INVALID_OPENAPI_FILE, ARTIFACTS (the screenshots' folder)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env('PORTICO_URL');
const GATEWAY = env('GATEWAY_URL');
const BACKEND = env('BACKEND_URL');
const ARTIFACTS = env('ARTIFACTS');
const suffix = Date.now().toString(36);
const apiName = `Story${suffix}`;
const context = `/story${suffix}`;
const developer = `dev${suffix}`;
const password = 'dev-password-1';
const shots = [];
// A 16×16 indigo PNG for the API's thumbnail.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGPw9j9GEmIY1TCqYfhqAACnlmAQi0DkqAAAAABJRU5ErkJggg==',
  'base64',
);
const pages = [];

mkdirSync(ARTIFACTS, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'portico-chromium-'));
// A fresh profile (--user-data-dir) for every run; each actor gets a tab of its own, and a
// tab's sessionStorage, where the portals keep their tokens, is its own.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

async function shot(page, name) {
  await page.waitForLoadState('networkidle').catch(() => {});
  // From the top: a page scrolled by the last click would draw its fixed header mid-picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

async function newPage(width = 1280, height = 800) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  pages.push(page);
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  return page;
}

async function signInAt(page, username, pw) {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(pw);
  await page.getByRole('button', { name: 'Sign in and allow' }).click();
}

try {
  // -- Publisher
  const pub = await newPage();
  await pub.goto(`${BASE}/publisher/`);
  await pub.getByRole('button', { name: 'Sign in' }).first().click();
  await signInAt(pub, env('ADMIN_USER'), env('ADMIN_PASSWORD'));
  await pub.getByRole('heading', { name: 'APIs' }).waitFor();
  assert.equal(await pub.getByTestId('signed-in-user').textContent(), env('ADMIN_USER'));
  await shot(pub, 'publisher-apis');

  await pub.getByRole('link', { name: 'Create API' }).first().click();
  await pub.locator('input[type=file]').setInputFiles(env('INVALID_OPENAPI_FILE'));
  await pub.getByRole('button', { name: 'Create' }).click();
  await pub.getByText('The definition has problems').waitFor();
  await shot(pub, 'publisher-create-invalid');

  await pub.locator('input[type=file]').setInputFiles(env('OPENAPI_FILE'));
  await pub.getByLabel('Name').fill(apiName);
  await pub.getByLabel('Context').fill(context);
  await pub.getByLabel('Endpoint URL').fill(BACKEND);
  await pub.getByRole('button', { name: 'Create' }).click();
  await pub.getByRole('heading', { name: apiName }).waitFor();
  const apiId = pub.url().split('/apis/')[1];

  // Editing: endpoints (failover), a resource's header policy, a scope the API refuses and
  // then takes, CORS, and the thumbnail; each saved through PUT /apis/{apiId}.
  const apiUpdated = () => pub.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/apis/${apiId}`));
  await pub.getByRole('tab', { name: 'Endpoints' }).click();
  await pub.getByRole('radio', { name: /Failover/ }).check();
  await pub.getByRole('button', { name: 'Add a production failover' }).click();
  await pub.getByLabel('Production failover 1 URL', { exact: true }).fill(BACKEND.replace('127.0.0.1', 'localhost'));
  let saved = apiUpdated();
  await pub.getByRole('button', { name: 'Save endpoints' }).click();
  assert.equal((await saved).status(), 200);
  await pub.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await shot(pub, 'publisher-endpoints');

  await pub.getByRole('tab', { name: 'Resources' }).click();
  const hello = pub.getByRole('group', { name: 'GET /hello' });
  await hello.getByRole('button', { name: 'Add a request header policy' }).click();
  await hello.getByLabel('Header name').fill('X-Story-Policy');
  await hello.getByLabel('Header value').fill('set-by-publisher');
  saved = apiUpdated();
  await pub.getByRole('button', { name: 'Save resources' }).click();
  assert.equal((await saved).status(), 200);
  await pub.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await shot(pub, 'publisher-resources');

  await pub.getByRole('tab', { name: 'Scopes' }).click();
  await pub.getByRole('button', { name: 'Add a scope' }).click();
  await pub.getByLabel('Scope name').fill('apim:story');
  saved = apiUpdated();
  await pub.getByRole('button', { name: 'Save scopes' }).click();
  assert.equal((await saved).status(), 400);
  await pub.getByRole('alert').filter({ hasText: 'is reserved' }).waitFor();
  await shot(pub, 'publisher-scopes-refused');
  await pub.getByLabel('Scope name').fill('story:read');
  await pub.getByRole('combobox', { name: 'Roles' }).fill('subscriber');
  await pub.getByRole('combobox', { name: 'Roles' }).press('Enter');
  saved = apiUpdated();
  await pub.getByRole('button', { name: 'Save scopes' }).click();
  assert.equal((await saved).status(), 200);

  await pub.getByRole('tab', { name: 'Security' }).click();
  await pub.getByLabel('Allow calls from web pages of other origins').check();
  saved = apiUpdated();
  await pub.getByRole('button', { name: 'Save CORS settings' }).click();
  assert.equal((await saved).status(), 200);
  await shot(pub, 'publisher-security');

  await pub.getByRole('tab', { name: 'Overview' }).click();
  await pub.locator('input[type=file]').setInputFiles({ name: 'story.png', mimeType: 'image/png', buffer: PNG });
  const uploaded = pub.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/thumbnail'));
  await pub.getByRole('button', { name: 'Upload thumbnail' }).click();
  assert.equal((await uploaded).status(), 200);
  await pub.getByTestId('publisher-thumbnail').waitFor();
  await shot(pub, 'publisher-overview-thumbnail');

  await pub.getByRole('tab', { name: 'Deployments' }).click();
  await pub.getByRole('button', { name: 'Create revision' }).click();
  const deployed = pub.waitForResponse((r) => r.url().includes('/deploy-revision'));
  await pub.getByRole('button', { name: 'Deploy', exact: true }).click();
  assert.equal((await deployed).status(), 201);
  const restored = pub.waitForResponse((r) => r.url().includes('/restore-revision'));
  await pub.getByRole('button', { name: 'Restore Revision 1' }).click();
  assert.equal((await restored).status(), 201);
  await pub.getByText('Revision 1 is the working copy again.').waitFor();
  await shot(pub, 'publisher-deployments');

  await pub.getByRole('tab', { name: 'Lifecycle' }).click();
  await pub.getByRole('button', { name: 'Publish' }).click();
  await pub.getByTestId('lifecycle-state').filter({ hasText: 'Published' }).waitFor();
  await shot(pub, 'publisher-lifecycle');

  // -- Developer portal: anonymous, then signed up and in
  const dev = await newPage();
  await dev.goto(`${BASE}/devportal/`);
  await dev.getByRole('link', { name: apiName }).waitFor();
  const card = dev.getByTestId('api-card').filter({ hasText: apiName });
  await card.locator('img').waitFor();
  await dev.waitForFunction((name) => {
    const cards = [...document.querySelectorAll('[data-testid=api-card]')].filter((c) => c.textContent.includes(name));
    return cards.some((c) => c.querySelector('img')?.naturalWidth > 0);
  }, apiName);
  await shot(dev, 'devportal-apis');

  await dev.getByRole('link', { name: 'Sign up' }).click();
  await dev.getByLabel('Username').fill(developer);
  await dev.getByRole('textbox', { name: 'Password' }).fill(password);
  await dev.getByRole('button', { name: 'Sign up' }).click();
  await dev.getByRole('button', { name: 'Sign in' }).last().click();
  await signInAt(dev, developer, password);
  await dev.getByTestId('signed-in-user').filter({ hasText: developer }).waitFor();
  await dev.getByRole('link', { name: 'Applications' }).click();
  await dev.getByRole('heading', { name: 'Applications' }).waitFor();

  await dev.getByLabel('Application name').fill('StoryApp');
  await dev.getByRole('button', { name: 'Create application' }).click();
  await dev.getByRole('heading', { name: 'StoryApp' }).waitFor();
  const appUrl = dev.url();

  await dev.goto(`${BASE}/devportal/apis/${apiId}`);
  await dev.getByTestId('rating-summary').filter({ hasText: 'Not rated yet' }).waitFor();
  const rated = dev.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/user-rating'));
  await dev.getByTestId('your-rating').getByLabel('4', { exact: true }).press('Enter');
  assert.equal((await rated).status(), 200);
  await dev.getByTestId('rating-summary').filter({ hasText: '4.0 of 5 from 1 rating' }).waitFor();
  await shot(dev, 'devportal-api-overview-rating');
  await dev.getByRole('tab', { name: 'Subscribe' }).click();
  await dev.getByLabel('Application', { exact: true }).first().click();
  await dev.getByRole('option', { name: 'StoryApp' }).click();
  await dev.getByRole('button', { name: 'Subscribe' }).click();
  await dev.getByText('Subscribed.').waitFor();

  await dev.goto(appUrl);
  await dev.getByRole('button', { name: 'Generate keys' }).click();
  await dev.getByText('Copy the consumer secret now').waitFor();
  await dev.getByRole('button', { name: 'Generate access token' }).click();
  await dev.getByLabel('Copy access token').waitFor();
  await shot(dev, 'devportal-application-keys');

  // An API key, shown once, then revoked by giving it back.
  await dev.getByRole('link', { name: 'Generate or revoke API keys' }).click();
  await dev.getByRole('button', { name: 'Generate API key' }).click();
  await dev.getByText('Copy the API key now').waitFor();
  const apiKey = (await dev.getByLabel('API key', { exact: true }).textContent()).trim();
  assert.equal(apiKey.split('.').length, 3, 'an API key is a signed JWT');
  await shot(dev, 'devportal-api-keys');
  await dev.getByLabel('API key to revoke').fill(apiKey);
  const revoked = dev.waitForResponse((r) => r.url().includes('/api-keys/PRODUCTION/revoke'));
  await dev.getByRole('button', { name: 'Revoke API key' }).click();
  assert.equal((await revoked).status(), 200);
  await dev.getByText('The key is revoked').waitFor();

  const tryIt = async () => {
    await dev.goto(`${BASE}/devportal/apis/${apiId}`);
    await dev.getByRole('tab', { name: 'Try it' }).click();
    const gatewayUrl = dev.getByLabel('Gateway URL');
    const prefilled = await gatewayUrl.inputValue();
    assert.match(prefilled, new RegExp(`${context}/1\\.0\\.0$`));
    await gatewayUrl.fill(prefilled.replace(/^https?:\/\/[^/]+/, GATEWAY));
    await dev.getByLabel('Resource path').fill('/hello');
    await dev.getByRole('button', { name: 'Send' }).click();
    const response = dev.getByTestId('try-it-response');
    await response.waitFor();
    return Number((await response.getByText(/^Status \d+/).textContent()).split(' ')[1]);
  };
  assert.equal(await tryIt(), 200);
  // The publisher's request header policy reached the backend, which echoes the headers.
  await dev.getByTestId('try-it-response').getByText(/set-by-publisher/).waitFor();
  await shot(dev, 'devportal-try-it');

  await dev.getByRole('tab', { name: 'Definition' }).click();
  await dev.getByText('/hello').first().waitFor();
  await shot(dev, 'devportal-definition');

  // The call reaches the usage chart once analytics flushed it.
  let total = 0;
  for (let attempt = 0; attempt < 30 && total < 1; attempt++) {
    await dev.goto(appUrl);
    total = Number((await dev.getByTestId('usage-total').textContent()).split(' ')[0]);
    if (total < 1) await dev.waitForTimeout(1000);
  }
  assert.ok(total >= 1, 'the call never reached the usage chart');
  await shot(dev, 'devportal-application-usage');

  // The publisher sees the call in the API's analytics: latency percentiles, top applications.
  await pub.getByRole('tab', { name: 'Analytics' }).click();
  await pub.getByTestId('top-applications').getByRole('cell', { name: 'StoryApp' }).waitFor();
  await pub.locator('label').filter({ hasText: /^24h$/ }).click();
  await pub.getByTestId('top-applications').getByRole('cell', { name: 'StoryApp' }).waitFor();
  await shot(pub, 'publisher-analytics');

  // -- Admin
  const admin = await newPage();
  await admin.goto(`${BASE}/admin/`);
  await admin.getByRole('button', { name: 'Sign in' }).first().click();
  await signInAt(admin, env('ADMIN_USER'), env('ADMIN_PASSWORD'));
  await admin.getByRole('heading', { name: 'Platform dashboard' }).waitFor();
  await shot(admin, 'admin-dashboard');

  await admin.getByRole('link', { name: 'Throttling policies' }).click();
  await admin.getByLabel('Policy name').fill(`Story${suffix}Gold`);
  await admin.getByRole('button', { name: 'Add policy' }).click();
  await admin.getByText(`Story${suffix}Gold`).waitFor();
  // Burst control on the new tier.
  await admin.getByRole('button', { name: `Edit Story${suffix}Gold` }).click();
  await admin.getByLabel('Burst limit (requests)').fill('100');
  const policySaved = admin.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/throttling/policies/subscription/'));
  await admin.getByRole('button', { name: 'Save policy' }).click();
  assert.equal((await policySaved).status(), 200);
  await admin.getByText('burst 100 / sec').waitFor();
  await shot(admin, 'admin-subscription-policies');

  await admin.getByRole('link', { name: 'Deny policies' }).click();
  await admin.getByLabel('Condition', { exact: true }).first().click();
  await admin.getByRole('option', { name: 'APPLICATION' }).click();
  await admin.getByLabel('Value').fill(`${developer}:StoryApp`);
  await admin.getByRole('button', { name: 'Add deny policy' }).click();
  await admin.getByRole('cell', { name: `${developer}:StoryApp`, exact: true }).waitFor();
  await shot(admin, 'admin-deny-policies');

  await admin.getByRole('link', { name: 'Environments' }).click();
  await admin.getByRole('button', { name: 'Edit Default' }).click();
  await admin.getByLabel('Description').fill('The story gateway');
  const envSaved = admin.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/environments/'));
  await admin.getByRole('button', { name: 'Save environment' }).click();
  assert.equal((await envSaved).status(), 200);
  await admin.getByRole('cell', { name: 'The story gateway' }).waitFor();
  await shot(admin, 'admin-environments');

  await admin.getByRole('link', { name: 'Users' }).click();
  await admin.getByRole('button', { name: `Edit ${developer}` }).click();
  await admin.getByRole('checkbox', { name: /^creator/ }).check();
  const rolesSaved = admin.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/scim2/Users/'));
  await admin.getByRole('button', { name: 'Save roles' }).click();
  assert.equal((await rolesSaved).status(), 200);
  await admin.getByRole('row', { name: new RegExp(developer) }).getByText('creator').waitFor();
  await shot(admin, 'admin-users');

  // The developer's next call is refused (the gateway learns of the policy by an event).
  let status = 200;
  for (let attempt = 0; attempt < 20 && status === 200; attempt++) {
    status = await tryIt();
    if (status === 200) await dev.waitForTimeout(500);
  }
  // The reference's answer to a call a deny policy blocks: 429 with code 900805.
  assert.equal(status, 429);
  await dev.getByTestId('try-it-response').getByText(/900805/).waitFor();
  await shot(dev, 'devportal-try-it-denied');

  // -- A phone-sized screen
  const phone = await newPage(390, 844);
  await phone.goto(`${BASE}/devportal/`);
  await phone.getByRole('link', { name: apiName }).waitFor();
  await shot(phone, 'devportal-apis-390px');

  // The publisher's editing on a phone-sized screen.
  await pub.setViewportSize({ width: 390, height: 844 });
  await pub.getByRole('tab', { name: 'Resources' }).click();
  await pub.getByRole('group', { name: 'GET /hello' }).waitFor();
  await shot(pub, 'publisher-resources-390px');
  await pub.setViewportSize({ width: 1280, height: 800 });

  // Sign-out revokes the publisher's token.
  await pub.getByRole('button', { name: 'Sign out' }).click();
  await pub.getByRole('button', { name: 'Sign in' }).first().waitFor();

  console.log(`screenshots:\n${shots.join('\n')}`);
} catch (e) {
  // What each tab showed when the story broke, for the one reading the failure.
  for (const [i, page] of pages.entries()) {
    const path = join(ARTIFACTS, `failure-tab${i}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    console.error(`tab ${i} at ${page.url()}: ${path}`);
  }
  throw e;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
