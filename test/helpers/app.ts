import express5 from 'express';
import express4 from 'express4';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import '../../lib/express.js';

/** Both Express majors, for `describe.each(EXPRESS_VERSIONS)`. */
export const EXPRESS_VERSIONS = [
  ['Express 5', express5 as unknown as typeof express5],
  ['Express 4', express4 as unknown as typeof express5],
] as const;

type ExpressFactory = typeof express5;

/** Answers errors as `{ code, reason, message }` JSON with the error's status and headers, like an app would. */
export const jsonErrorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  const status = typeof err.status === 'number' ? err.status : 500;
  res.set(err.headers ?? {}).status(status).json({ code: err.code, reason: err.reason, message: err.message });
};

/**
 * An app with `GET /me` behind the given middleware chain; the route echoes `req.auth` minus the
 * token. With `errorHandler: false`, Express's own default handler answers errors.
 */
export function createApp(
  guards: RequestHandler[],
  { express = express5, errorHandler = true }: { express?: ExpressFactory; errorHandler?: boolean } = {},
): ReturnType<ExpressFactory> {
  const app = express();
  app.get('/me', ...guards, (req, res) => {
    res.json({ authenticated: req.auth !== undefined, source: req.auth?.source, header: req.auth?.header, payload: req.auth?.payload });
  });
  app.post('/me', express.urlencoded({ extended: false }), ...guards, (req, res) => {
    res.json({ authenticated: req.auth !== undefined, payload: req.auth?.payload });
  });
  if (errorHandler) app.use(jsonErrorHandler);
  return app;
}
