// Types only: adds `req.auth` to Express's Request for every file that imports bearer-guard.
import type { AuthResult } from './types.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `verifyToken()` once the bearer token is verified; absent on optional routes without a token. */
    auth?: AuthResult;
  }
}

export {};
