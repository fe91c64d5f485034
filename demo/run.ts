// `npm run demo`: a local OpenID Provider, an API protected by bearer-guard, and real tokens
// accepted and rejected, one line each. Exits 0 when every step behaved as described, 1 if not.
// `npm run demo -- --keep` leaves both servers running and prints curl commands to try.
import express, { type ErrorRequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { isAuthError, requireScopes, verifyToken } from 'bearer-guard';
import { startLocalIdp } from './local-idp.js';

const API = 'https://api.demo.test';
// Extra resources whose tokens are still for this API (same `aud`): one issues opaque tokens,
// one issues tokens that live a single second, so the demo can show expiry without waiting long.
const OPAQUE_RESOURCE = 'urn:demo:api-opaque';
const SHORT_LIVED_RESOURCE = 'urn:demo:api-short-lived';
const OTHER_API = 'https://billing.demo.test';
const APP = { clientId: 'demo-app', clientSecret: 'demo-app-secret' };
const API_CLIENT = { clientId: 'demo-api', clientSecret: 'demo-api-secret' };

interface Step {
  title: string;
  expected: number;
  token?: string;
  path: string;
}

async function main(keep: boolean): Promise<number> {
  const idp = await startLocalIdp({
    clients: [
      { ...APP, scope: 'orders:read' },
      // The API's own client, allowed to introspect tokens issued to other clients.
      { ...API_CLIENT, introspectsOthers: true },
    ],
    resources: {
      [API]: { scope: 'orders:read orders:write' },
      [OPAQUE_RESOURCE]: { scope: 'orders:read', accessTokenFormat: 'opaque', audience: API },
      [SHORT_LIVED_RESOURCE]: { scope: 'orders:read', accessTokenTTL: 1, audience: API },
      [OTHER_API]: { scope: 'orders:read' },
    },
  });

  const auth = verifyToken({
    issuer: idp.issuer, // keys and the introspection endpoint are found by discovery
    audience: API,
    allowHttpLoopback: true, // the demo IdP is plain http on 127.0.0.1
    clockTolerance: 1,
    introspection: API_CLIENT, // opaque tokens: RFC 7662 with the API's own credentials
  });
  const app = express();
  app.get('/orders', auth, requireScopes('orders:read'), (req, res) => {
    res.json({ source: req.auth?.source, client_id: req.auth?.payload.client_id, aud: req.auth?.payload.aud, scope: req.auth?.payload.scope });
  });
  app.post('/orders', auth, requireScopes('orders:write'), (_req, res) => res.status(201).json({ created: true }));
  const errors: ErrorRequestHandler = (err, _req, res, next) => {
    if (!isAuthError(err)) return next(err);
    res.status(err.status).set(err.headers).json(err);
  };
  app.use(errors);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`identity provider ${idp.issuer}   protected API ${api}\n`);

  const token = (resource?: string) => idp.getClientCredentialsToken({ ...APP, scope: 'orders:read', ...(resource && { resource }) });
  const valid = await token(API);
  const shortLived = await token(SHORT_LIVED_RESOURCE);
  const [header, payload, signature] = valid.split('.') as [string, string, string];
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'orders:read orders:write' })).toString('base64url')}.${signature}`;
  const steps: Step[] = [
    { title: 'valid JWT access token', expected: 200, token: valid, path: 'GET /orders' },
    { title: 'token for another API (wrong audience)', expected: 401, token: await token(OTHER_API), path: 'GET /orders' },
    { title: 'tampered token (scope added after signing)', expected: 401, token: tampered, path: 'GET /orders' },
    { title: 'valid token without the orders:write scope', expected: 403, token: valid, path: 'POST /orders' },
    { title: 'no token', expected: 401, path: 'GET /orders' },
    { title: 'opaque token, checked by introspection', expected: 200, token: await token(OPAQUE_RESOURCE), path: 'GET /orders' },
  ];
  let failures = 0;
  for (const step of steps) failures += await run(api, step);
  // The short-lived token was issued with a 1 s lifetime; past that and the 1 s tolerance it is refused.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  failures += await run(api, { title: 'expired token', expected: 401, token: shortLived, path: 'GET /orders' });

  console.log(`\n${failures === 0 ? 'every step behaved as described' : `${failures} step(s) did not behave as described`}`);
  if (keep) {
    console.log(`\nServers keep running; press Ctrl-C to stop. Try:\n`);
    console.log(`  TOKEN=$(curl -s -u ${APP.clientId}:${APP.clientSecret} -d grant_type=client_credentials -d resource=${API} -d scope=orders:read ${idp.tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`);
    console.log(`  curl -i -H "Authorization: Bearer $TOKEN" ${api}/orders`);
    console.log(`  curl -i ${api}/orders`);
    console.log(`  echo $TOKEN | npx bearer-guard decode`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await new Promise((resolve) => server.close(resolve));
  await idp.close();
  return failures === 0 ? 0 : 1;
}

async function run(api: string, step: Step): Promise<number> {
  const [method, path] = step.path.split(' ') as [string, string];
  const response = await fetch(api + path, { method, headers: step.token === undefined ? {} : { authorization: `Bearer ${step.token}` } });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const ok = response.status === step.expected;
  const detail =
    response.status === 200 || response.status === 201
      ? `handler saw ${JSON.stringify(body)}`
      : [body.reason && `reason=${String(body.reason)}`, response.headers.get('www-authenticate') && `WWW-Authenticate: ${response.headers.get('www-authenticate')}`]
          .filter(Boolean)
          .join('  ');
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${step.path.padEnd(12)} ${step.title.padEnd(44)} → ${response.status} ${detail}`);
  if (!ok) console.log(`     expected ${step.expected}`);
  return ok ? 0 : 1;
}

main(process.argv.includes('--keep')).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
